from flask import Blueprint

bp = Blueprint("reports_api", __name__)
API_PATHS: dict = {}
