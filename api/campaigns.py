"""/api/v1/campaigns: staffing needs, their shifts and positions, and staffing status."""
from flask import current_app
from flask.views import MethodView

from api import Blueprint
from api.auth import current_actor, current_scope
from api.pagination import SelectPage
from api.schemas.campaigns import (AlertCreateSchema, AlertSchema, CallUpQuerySchema, CallUpSchema, CampaignCancelSchema, CampaignCreateSchema,
                                   CampaignQuerySchema, CampaignSchema, CampaignUpdateSchema, MatchSchema,
                                   StaffingSchema, TimelineEventSchema)
from api.schemas.common import for_update
from api.schemas.overrides import OverrideCreateSchema, OverrideSchema
from callups import alerts
from campaigns import backfill, overrides, services
from core.clock import utcnow
from extensions import db

blp = Blueprint("campaigns", __name__, url_prefix="/api/v1/campaigns",
                description="Campaigns with shifts and positions.")


@blp.route("")
class Campaigns(MethodView):
    @blp.arguments(CampaignQuerySchema, location="query")
    @blp.response(200, CampaignSchema(many=True))
    @blp.alt_response(404, description="Unknown grid in office_grid_id")
    @blp.paginate(SelectPage)
    def get(self, query):
        """List campaigns by office subtree, status, kind, priority or text."""
        return services.list_campaigns(scope=current_scope(), **query)

    @blp.arguments(CampaignCreateSchema)
    @blp.response(201, CampaignSchema)
    @blp.alt_response(422, description="Invalid input")
    def post(self, data):
        """Draft a campaign with its shifts and positions."""
        return services.draft_campaign(data, scope=current_scope(), now=utcnow())


@blp.route("/<int:campaign_id>")
class CampaignById(MethodView):
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, campaign_id):
        """Show one campaign."""
        return services.get_campaign(campaign_id)

    @blp.arguments(for_update(CampaignUpdateSchema))
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Not a draft")
    def patch(self, data, campaign_id):
        """Change a draft campaign."""
        return services.update_campaign(campaign_id, data, scope=current_scope(), now=utcnow())

    @blp.response(204)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Not a draft")
    def delete(self, campaign_id):
        """Delete a draft campaign."""
        services.delete_campaign(campaign_id, actor=current_actor(), now=utcnow())


@blp.route("/<int:campaign_id>/staffing")
class CampaignStaffing(MethodView):
    @blp.response(200, StaffingSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, campaign_id):
        """Accepted, pending, declined and expired call-ups per position."""
        return services.staffing(campaign_id)


class RowPage(SelectPage):
    """A page of a Select of several columns: rows rather than scalars."""

    def fetch(self, stmt) -> list:
        return db.session.execute(stmt).all()


@blp.route("/<int:campaign_id>/timeline")
class CampaignTimeline(MethodView):
    @blp.response(200, TimelineEventSchema(many=True))
    @blp.alt_response(404, description="Not found")
    @blp.paginate(RowPage)
    def get(self, campaign_id):
        """The call-up history in time order: who went from which state to which, when, by whom."""
        return services.list_timeline(campaign_id)


@blp.route("/<int:campaign_id>/callups")
class CampaignCallUps(MethodView):
    @blp.arguments(CallUpQuerySchema, location="query")
    @blp.response(200, CallUpSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, query, campaign_id):
        """List a campaign's call-ups."""
        return services.list_callups(campaign_id, **query)


@blp.route("/<int:campaign_id>/match")
class CampaignMatch(MethodView):
    @blp.response(200, MatchSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Cancelled or done")
    def post(self, campaign_id):
        """Dry run: who would be called and why places stay open (changes nothing)."""
        return services.match_campaign(campaign_id, now=utcnow(), timezone_name=current_app.config["TIMEZONE"])


@blp.route("/<int:campaign_id>/publish")
class CampaignPublish(MethodView):
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Not a draft")
    @blp.alt_response(422, description="A shift has already started")
    def post(self, campaign_id):
        """Publish a draft: store the best-fit proposals as scheduled call-ups."""
        return services.publish_campaign(campaign_id, actor=current_actor(), now=utcnow(),
                                         timezone_name=current_app.config["TIMEZONE"])


@blp.route("/<int:campaign_id>/cancel")
class CampaignCancel(MethodView):
    @blp.arguments(CampaignCancelSchema)
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Already cancelled or done")
    @blp.alt_response(422, description="Invalid input")
    def post(self, data, campaign_id):
        """Cancel a campaign: withdraw open call-ups and notify the people who accepted."""
        return services.cancel_campaign(campaign_id, reason=data["reason"], actor=current_actor(), now=utcnow())


@blp.route("/<int:campaign_id>/overrides")
class CampaignOverrides(MethodView):
    @blp.response(200, OverrideSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, campaign_id):
        """List the campaign's recruitment overrides, active and ended."""
        services.get_campaign(campaign_id)
        return overrides.list_overrides(campaign_id)

    @blp.arguments(OverrideCreateSchema)
    @blp.response(201, OverrideSchema)
    @blp.alt_response(403, description="Only a street office or the district may open one")
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Cancelled or done")
    @blp.alt_response(422, description="Invalid input")
    def post(self, data, campaign_id):
        """Emergency: let the campaign recruit across a street or the district until the override ends."""
        return backfill.widen_search(services.get_campaign(campaign_id), scope=current_scope(), now=utcnow(),
                                     timezone_name=current_app.config["TIMEZONE"], **data)


@blp.route("/<int:campaign_id>/alerts")
class CampaignAlerts(MethodView):
    @blp.response(200, AlertSchema(many=True))
    @blp.alt_response(404, description="Not found")
    def get(self, campaign_id):
        """List the campaign's grid alerts with who received and acknowledged them."""
        return alerts.list_alerts(campaign_id)

    @blp.arguments(AlertCreateSchema)
    @blp.response(201, AlertSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Not an urgent or emergency campaign, or not published")
    @blp.alt_response(422, description="Invalid input")
    def post(self, data, campaign_id):
        """Alert (预警) the office staff and grid members of the campaign's whole area, matched or not."""
        alert = alerts.broadcast_alert(campaign_id, message=data["message"], actor=current_actor(), now=utcnow())
        return next(item for item in alerts.list_alerts(campaign_id) if item["id"] == alert.id)
