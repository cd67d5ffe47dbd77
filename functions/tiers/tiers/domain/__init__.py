"""The partner programme's rules, pure: criteria versions and evaluation (`criteria`), running totals (`totals`), a
partner's tier and how it moves (`standing`), and the rebuild of a standing from its facts alone (`rebuild`)."""
