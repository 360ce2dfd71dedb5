from flask import Blueprint

bp = Blueprint("standing", __name__)
API_PATHS: dict = {}
