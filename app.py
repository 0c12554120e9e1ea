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
    register_read_requests(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from accounts.access import OWNERS
    from accounts.staff import coordinator_addresses
    from gridwork.owners import register as register_gridwork_owners
    from core.db import configure_postgresql, configure_sqlite, engine_options
    from web.locale import init_app as init_i18n
    from notices.outbox import STAFF_CHANNELS_KEY
    from extensions import api, csrf, db, limiter, login_manager, migrate

    options = engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    options.update(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    _import_models()
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
        elif db.engine.dialect.driver == "psycopg":
            configure_postgresql(db.engine)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"),
                     render_as_batch=True, compare_type=True)
    api.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    init_i18n(app)
    limiter.init_app(app)
    # Grid practice sits above accounts: it hands the access layer the owners of its own kinds of id.
    if "unit_id" not in OWNERS:
        register_gridwork_owners()
    # The outbox sits below accounts: it is handed how a coordinator's addresses are read.
    app.extensions[STAFF_CHANNELS_KEY] = coordinator_addresses


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def register_read_requests(app: Flask) -> None:
    """Requests that read (GET, HEAD) begin their SQLite transactions deferred, so they never queue behind a
    writer (core.db.reads_first), and so do views marked ``reads_before_writing``; every other request, job
    and command takes the write lock up front."""
    from flask import g, request

    from core.db import reads_first

    def begin_reading() -> None:
        view = app.view_functions.get(request.endpoint or "")
        if request.method in READ_METHODS or getattr(view, "reads_first", False):
            g.reads_first = reads_first()
            g.reads_first.__enter__()

    def end_reading(_error: BaseException | None = None) -> None:
        block = g.pop("reads_first", None)
        if block is not None:
            block.__exit__(None, None, None)

    # First of the request hooks, before any of them reads the database.
    app.before_request_funcs.setdefault(None, []).insert(0, begin_reading)
    app.teardown_request(end_reading)


def _import_models() -> None:
    """Every model module, so metadata (and Alembic) sees every table."""
    import accounts.models  # noqa: F401
    import notices.models  # noqa: F401
    import campaigns.models  # noqa: F401
    import grids.models  # noqa: F401
    import gridwork.models  # noqa: F401
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
    from accounts.cli import roster_export_command, tokens_cli, users_cli
    from callups.cli import outbox_cli, scheduler_cli
    from demo.cli import demo_cli
    from grids.cli import grids_cli
    from volunteers.cli import volunteers_cli

    volunteers_cli.add_command(roster_export_command)
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
