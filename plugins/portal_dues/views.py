from flask import Blueprint

bp = Blueprint("dues", __name__)
