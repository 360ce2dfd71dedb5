from flask import Blueprint
bp = Blueprint("meetings", __name__)
