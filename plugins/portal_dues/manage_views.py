from flask import Blueprint

bp = Blueprint("dues_manage", __name__)
