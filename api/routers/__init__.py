"""HTTP routers, one per resource; they parse, authorize and delegate to the service modules."""
