from flask import Blueprint
bp = Blueprint("meetings_api", __name__)
API_PATHS = {}
