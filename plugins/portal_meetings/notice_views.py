from flask import Blueprint
bp = Blueprint("meetings_notices", __name__)
