"""Extension singletons, bound to the app in create_app; no app here."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()
login_manager = LoginManager()
csrf = CSRFProtect()
# No default limits: each sensitive route declares its own (login, token, answer links, writes).
# Storage comes from RATELIMIT_STORAGE_URI: Redis when configured, so all gunicorn workers share counts.
limiter = Limiter(key_func=get_remote_address)
