"""Pagination of SQLAlchemy selects with flask-smorest's page/page_size and X-Pagination."""
from __future__ import annotations

from flask_smorest import Page
from sqlalchemy import func, select

from extensions import db


class SelectPage(Page):
    """A page of a Select: counts the whole result, loads only the page's rows."""

    @property
    def item_count(self) -> int:
        stmt = self.collection.order_by(None)
        return db.session.scalar(select(func.count()).select_from(stmt.subquery()))

    @property
    def items(self):
        if self.page_params.first_item >= self.page_params.item_count:
            # Past the last page: empty, without an OFFSET the database may not hold (page=10**30).
            return []
        return self.fetch(self.collection.limit(self.page_params.page_size).offset(self.page_params.first_item))

    def fetch(self, stmt) -> list:
        """The page's rows of ``stmt`` (already limited and offset)."""
        return db.session.scalars(stmt).unique().all()
