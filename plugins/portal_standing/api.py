from flask import Blueprint

bp = Blueprint("standing_api", __name__)
API_PATHS: dict = {}
