from flask import Blueprint

bp = Blueprint("reports", __name__)
API_PATHS: dict = {}
