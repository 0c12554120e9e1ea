"""Demo data: `flask demo seed` builds a realistic district to try the service on."""
