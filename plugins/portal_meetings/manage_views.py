from flask import Blueprint
bp = Blueprint("meetings_manage", __name__)
