from flask import Blueprint

bp = Blueprint("dues_api", __name__)
API_PATHS: dict = {}
