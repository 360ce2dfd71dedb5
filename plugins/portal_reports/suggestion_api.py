from flask import Blueprint

bp = Blueprint("reports_suggestions_api", __name__)
API_PATHS: dict = {}
