from flask import Blueprint

bp = Blueprint("reports_suggestions", __name__)
API_PATHS: dict = {}
