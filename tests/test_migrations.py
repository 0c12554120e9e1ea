"""Does the migration history have one head and build every table of the models?"""
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from extensions import db


def test_migrations_single_head(app):
    config = app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, heads


def test_migrations_build_every_model_table(app):
    tables = set(inspect(db.engine).get_table_names())
    expected = {table.name for table in db.metadata.sorted_tables}
    assert expected <= tables, expected - tables
    assert "alembic_version" in tables


def test_migrations_match_models(app):
    """Autogenerate finds nothing to add: models and migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], diff


def test_migrations_down_and_up_keep_the_rows_of_rebuilt_tables(app, tree):
    """SQLite rebuilds a table to add a foreign key; the rows that refer to it must survive."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import func, select

    from campaigns.models import Campaign, Position, Shift
    from tests.db.test_recruitment import campaign

    position_id = campaign(tree, headcount=2).shifts[0].positions[0].id
    db.session.commit()
    counts = {model: db.session.scalar(select(func.count()).select_from(model)) for model in (Campaign, Shift, Position)}
    assert counts == {Campaign: 1, Shift: 1, Position: 1}
    db.session.remove()
    downgrade(revision="0007")
    upgrade()
    assert {model: db.session.scalar(select(func.count()).select_from(model))
            for model in (Campaign, Shift, Position)} == counts
    assert db.session.get(Position, position_id).headcount == 2


def test_outbox_table_is_vacuumed_after_a_thousand_changes_on_postgresql(app, is_postgres):
    from sqlalchemy import text

    if not is_postgres:
        # SQLite has no autovacuum settings: the migration leaves it alone, and upgrading still worked.
        assert db.session.execute(text("SELECT version_num FROM alembic_version")).scalar() >= "0009"
        return
    options = db.session.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'notifications'")).scalar()
    assert "autovacuum_vacuum_threshold=1000" in options and "autovacuum_vacuum_scale_factor=0" in options
