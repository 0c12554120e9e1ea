"""Schemas of roster files: the upload, its options, the import report and export filters."""
from marshmallow import fields, validate

from api.schemas.common import Schema
from api.schemas.volunteers import VolunteerQuerySchema


class RosterUploadSchema(Schema):
    file = fields.Raw(required=True, metadata={
        "type": "string", "format": "binary",
        "description": "CSV (UTF-8 or GBK) or XLSX; Chinese or English column headers"})


class RosterImportOptionsSchema(Schema):
    skip_bad_rows = fields.Boolean(load_default=False, metadata={
        "description": "Import the good rows and report the bad ones (default: all or nothing)"})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Check and report; write nothing"})


class RowErrorSchema(Schema):
    row = fields.Integer(metadata={"description": "Row as the spreadsheet shows it (header = 1)"})
    column = fields.String(metadata={"description": "Column header as written in the file"})
    message = fields.String()


class RosterImportResultSchema(Schema):
    imported = fields.Integer(metadata={"description": "Rows written (0 on a dry run)"})
    valid = fields.Integer(metadata={"description": "Rows that passed every check"})
    skipped = fields.Integer(metadata={"description": "Bad rows left out"})
    dry_run = fields.Boolean()
    error_count = fields.Integer()
    errors = fields.List(fields.Nested(RowErrorSchema), attribute="reported_errors",
                         metadata={"description": "The first 500 problems"})


class RosterExportQuerySchema(VolunteerQuerySchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "xlsx"]))
    lang = fields.String(load_default="zh", validate=validate.OneOf(["zh", "en"]),
                         metadata={"description": "Column headers and labels: Chinese or English"})
