from django.contrib.auth.base_user import BaseUserManager


class AllUsersManager(BaseUserManager):
    """Every user, deleted ones included (admin restore, audit, history)."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        email = self.normalize_email(email)
        extra_fields.setdefault("username", email.split("@", 1)[0])
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        # E-mail login is case-insensitive, matching the unique index on lower(email).
        # Deleted users cannot log in.
        return self.get(email__iexact=username, deleted_at__isnull=True)


class UserManager(AllUsersManager):
    """The default manager: deleted users cannot log in and disappear from lists."""

    use_in_migrations = False

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)
