"""Deal registration: partners register opportunities, conflicts are judged fairly, approved deals are protected."""
