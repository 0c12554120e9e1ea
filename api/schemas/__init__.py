"""marshmallow schemas of the REST API: input and output classes kept apart."""
