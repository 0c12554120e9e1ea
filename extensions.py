"""Extension singletons, bound to the app in create_app; no app here."""
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy

from core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()
