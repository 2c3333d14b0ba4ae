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
        "email": "student@lyceum.test",
        "password": "lyceum-student",
        "username": "student",
        "first_name": "Sofia",
        "last_name": "Student",
    },
)

# Built-in role (apps/rbac/builtin.py) each demo person holds, globally.
DEMO_ROLES = {
    "admin@lyceum.test": "administrator",
    "teacher@lyceum.test": "instructor",
    "student@lyceum.test": "student",
}
