"""Grid practice: responder units and whistles (网格吹哨、部门报到), visit targets and rounds (循环走访)."""
