"""Reports and the leaders' cockpit: figures per area (district, street office, community) and period, counted in SQL."""
