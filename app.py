"""Application factory; `python app.py` serves the embedded default on 127.0.0.1:5000."""
from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask
from werkzeug.serving import WSGIRequestHandler

from config import Config, config_from_env

# Every answer's Server header, from the dev server and gunicorn alike: no server name or version (issue #11).
SERVER_HEADER = "Gridmuster"


def create_app(config: Mapping | type | object | None = None) -> Flask:
    """Build the app from ``config`` (a class, object or mapping) or the environment."""
    app = Flask(__name__, instance_relative_config=True, static_folder="web/static",
                template_folder="web/templates")
    app.config.from_object(config_from_env() if config is None else Config)
    if isinstance(config, Mapping):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "gridmuster.db")
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from core.db import configure_sqlite, engine_options
    from extensions import api, csrf, db, limiter, login_manager, migrate

    options = engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    options.update(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    _import_models()
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"),
                     render_as_batch=True, compare_type=True)
    api.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)


def _import_models() -> None:
    """Every model module, so metadata (and Alembic) sees every table."""
    import accounts.models  # noqa: F401
    import callups.models  # noqa: F401
    import campaigns.models  # noqa: F401
    import grids.models  # noqa: F401
    import volunteers.models  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from api import register_api, register_request_bounds
    from web import register_web
    from web.docs import bp as docs_bp
    from web.ops import register_ops

    register_ops(app)  # first: every request gets its id and its count, refused ones too
    register_request_bounds(app)  # first: routes bind their URL converters when they are added
    register_api(app)
    register_web(app)
    app.register_blueprint(docs_bp)  # /api/v1/docs, public like the OpenAPI document


def register_errorhandlers(app: Flask) -> None:
    from api.errors import register_error_handlers

    register_error_handlers(app)


def register_security(app: Flask) -> None:
    from web.security import register_security as add_security

    add_security(app)


def register_commands(app: Flask) -> None:
    from accounts.cli import tokens_cli, users_cli
    from callups.cli import outbox_cli, scheduler_cli
    from demo.cli import demo_cli
    from grids.cli import grids_cli
    from volunteers.cli import volunteers_cli

    for group in (users_cli, tokens_cli, demo_cli, grids_cli, volunteers_cli, scheduler_cli, outbox_cli):
        app.cli.add_command(group)


class DevRequestHandler(WSGIRequestHandler):
    """The development server's request handler, saying SERVER_HEADER instead of Werkzeug's and Python's versions."""

    def version_string(self) -> str:
        return SERVER_HEADER


if __name__ == "__main__":
    application = create_app()
    from core.logs import configure_logging

    # APScheduler's per-tick lines are kept quiet there: the clock ticks every second.
    configure_logging(log_format=application.config["LOG_FORMAT"], level=application.config["LOG_LEVEL"])
    # The dev server is one process, so it may tick here; gunicorn workers never do.
    from callups.scheduler import start_background_scheduler

    start_background_scheduler(application)
    host = os.environ.get("GRIDMUSTER_HOST", "127.0.0.1")
    port = int(os.environ.get("GRIDMUSTER_PORT", "5000"))
    print(f"Gridmuster is running at http://{host}:{port}/  (API docs: http://{host}:{port}/api/v1/docs)",
          flush=True)
    application.run(host=host, port=port, debug=False, request_handler=DevRequestHandler)
