"""The demo people the README lists; later issues add courses, enrollments and the rest."""

DEMO_USERS = (
    {
        "email": "admin@lyceum.test",
        "password": "lyceum-admin",
        "username": "admin",
        "first_name": "Ada",
        "last_name": "Admin",
        "is_staff": True,
        "is_superuser": True,
    },
    {
        "email": "teacher@lyceum.test",
        "password": "lyceum-teacher",
        "username": "teacher",
        "first_name": "Tomas",
        "last_name": "Teacher",
    },
    {
        "email": "assistant@lyceum.test",
        "password": "lyceum-assistant",
        "username": "assistant",
        "first_name": "Tariq",
        "last_name": "Assistant",
    },
    {
        "email": "billing@lyceum.test",
        "password": "lyceum-billing",
        "username": "billing",
        "first_name": "Bea",
        "last_name": "Billing",
        "is_staff": True,
    },
    {
        "email": "student@lyceum.test",
        "password": "lyceum-student",
        "username": "student",
        "first_name": "Sofia",
        "last_name": "Student",
    },
    {
        "email": "subscriber@lyceum.test",
        "password": "lyceum-subscriber",
        "username": "subscriber",
        "first_name": "Sami",
        "last_name": "Subscriber",
    },
)

# Built-in role (apps/rbac/builtin.py) each demo person holds, globally.
DEMO_ROLES = {
    "admin@lyceum.test": "administrator",
    "teacher@lyceum.test": "instructor",
    "assistant@lyceum.test": "teaching_assistant",
    "billing@lyceum.test": "billing_manager",
    "student@lyceum.test": "student",
    "subscriber@lyceum.test": "student",
}

# Staff need two-factor authentication for the admin. The demo staff share this authenticator
# key (add it to any TOTP app; README lists it) and these backup codes, restored on every run.
DEMO_TOTP_KEY_HEX = "4c796365756d2d64656d6f2d61646d696e2d3266"  # b"Lyceum-demo-admin-2f"
DEMO_BACKUP_CODES = tuple(f"demo{n:04d}" for n in range(1, 11))
