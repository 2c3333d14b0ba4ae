import factory

from apps.rbac.models import Permission, Role, RoleGrant, RolePermission
from tests.accounts.factories import UserFactory


class PermissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Permission
        django_get_or_create = ("resource", "action")

    resource = factory.Sequence(lambda n: f"thing{n}")
    action = "view"


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"role_{n}")
    display_name = factory.LazyAttribute(lambda o: o.name.replace("_", " ").title())
    level = 20

    @factory.post_generation
    def permissions(self, create, extracted, **kwargs):
        """RoleFactory(permissions=["course.edit", ...]): names, created when missing."""
        for name in extracted or ():
            resource, action = name.split(".", 1)
            permission = PermissionFactory(resource=resource, action=action)
            RolePermission.objects.get_or_create(role=self, permission=permission)


class RoleGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleGrant

    user = factory.SubFactory(UserFactory)
    role = factory.SubFactory(RoleFactory)
