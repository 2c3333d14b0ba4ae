"""The built-in permissions and roles (the matrix in docs/adr/0006-rbac.md).

`builtin_sync` is given the model classes so the data migration can run it with historical
models; demo data runs it with the real ones (a flushed test database has no seeded rows).
"""

# (resource, action, description)
BUILTIN_PERMISSIONS: tuple[tuple[str, str, str], ...] = (
    ("course", "view", "See a course, drafts included within the grant's scope."),
    ("course", "enroll", "Enroll oneself in a course."),
    ("course", "create", "Create courses."),
    ("course", "edit", "Edit a course, its modules and lessons."),
    ("course", "publish", "Publish or unpublish a course."),
    ("course", "delete", "Delete (archive) a course."),
    ("category", "manage", "Create, move and retire subject categories."),
    ("enrollment", "view", "See who is enrolled in a course."),
    ("enrollment", "manage", "Enroll, move and remove learners."),
    ("progress", "view", "See learners' progress and activity."),
    ("grade", "view", "See learners' grades and quiz attempts."),
    ("grade", "edit", "Grade submissions and override scores."),
    ("certificate", "issue", "Issue or revoke certificates."),
    ("billing", "view", "See prices, orders, payments and invoices."),
    ("billing", "manage", "Change prices, coupons and subscriptions."),
    ("billing", "refund", "Refund payments."),
    ("user", "view", "See user accounts."),
    ("user", "manage", "Create, deactivate and edit user accounts."),
    ("rbac", "view", "See roles, permissions and grants."),
    ("rbac", "grant", "Grant and revoke roles."),
    ("rbac", "manage", "Create and change roles and their permissions."),
    ("analytics", "view", "See dashboards."),
    ("audit", "view", "See the audit trail."),
    ("assistant", "use", "Talk to learning assistants."),
    ("assistant", "manage", "Configure learning assistants."),
)

# name -> (display name, description, parent, level, own permission names). Each role inherits
# its ancestors' permissions, so only what it adds is listed.
BUILTIN_ROLES: dict[str, tuple[str, str, str | None, int, tuple[str, ...]]] = {
    "student": (
        "Student",
        "A learner: browses the catalogue, enrolls, learns.",
        None,
        10,
        ("course.view", "course.enroll", "assistant.use"),
    ),
    "teaching_assistant": (
        "Teaching assistant",
        "Helps an instructor, usually on one course: reads learners' work and grades it.",
        "student",
        30,
        ("enrollment.view", "progress.view", "grade.view", "grade.edit"),
    ),
    "instructor": (
        "Instructor",
        "Teaches, usually granted per course: edits and publishes it, manages its learners.",
        "teaching_assistant",
        50,
        ("course.edit", "course.publish", "enrollment.manage", "certificate.issue"),
    ),
    "billing_manager": (
        "Billing manager",
        "Runs prices, orders, refunds; sees accounts and enrollments to answer customers.",
        None,
        50,
        ("billing.view", "billing.manage", "billing.refund", "user.view", "enrollment.view"),
    ),
    "administrator": (
        "Administrator",
        "Runs the platform: everything.",
        "instructor",
        100,
        (
            "course.create",
            "course.delete",
            "category.manage",
            "billing.view",
            "billing.manage",
            "billing.refund",
            "user.view",
            "user.manage",
            "rbac.view",
            "rbac.grant",
            "rbac.manage",
            "analytics.view",
            "audit.view",
            "assistant.manage",
        ),
    ),
}


def builtin_sync(*, permission_model, role_model, role_permission_model) -> None:
    """Create or refresh the built-in permissions and roles; idempotent, never removes rows."""
    permissions = {}
    for resource, action, description in BUILTIN_PERMISSIONS:
        name = f"{resource}.{action}"
        permissions[name], _ = permission_model.objects.update_or_create(
            name=name,
            defaults={"resource": resource, "action": action, "description": description},
        )
    roles = {}
    # Dicts keep insertion order and parents come first.
    for name, (display_name, description, parent, level, _own) in BUILTIN_ROLES.items():
        roles[name], _ = role_model.objects.update_or_create(
            name=name,
            defaults={
                "display_name": display_name,
                "description": description,
                "parent": roles[parent] if parent else None,
                "level": level,
                "is_system": True,
            },
        )
    for name, (*_ignored, own) in BUILTIN_ROLES.items():
        for permission_name in own:
            role_permission_model.objects.get_or_create(
                role=roles[name], permission=permissions[permission_name]
            )
