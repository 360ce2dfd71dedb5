from flask import Blueprint
bp = Blueprint("meetings_notices_api", __name__)
API_PATHS = {}
