"""Who sees what in the admin, done once for every admin and inline of courses.

A superuser sees everything. Anyone else (an instructor or TA the roster import let in, see
``courses.services.staff_groups_ensure``) sees only the rows of the courses where they are an
instructor or a TA, may change or delete only those of the courses they teach, and picks
related rows (courses, sections, categories, assignments, groups, people) among those of the
courses they teach. A row of another course is not found (404). ``CourseScopedMixin`` does this
once for every admin and inline; the permissions themselves (a TA only views) come from the
staff groups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib import admin
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth import get_user_model
from django.db.models import BooleanField, DateField, ForeignKey, Model, QuerySet
from django.forms import ModelChoiceField
from django.http import Http404, HttpRequest

from courses.models import (
    STAFF_ROLES,
    Assignment,
    Category,
    Course,
    Enrollment,
    Extension,
    GroupMembership,
    ProjectGroup,
    Question,
    Role,
    Section,
)

M = TypeVar("M", bound=Model)


class CourseScopedChoiceField(ModelChoiceField):
    """Shows which course a category belongs to in a form's choices: category names
    (``homework``) repeat across courses."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.course.slug}: {obj}"


# How each model's rows reach their course ("pk": the course itself).
COURSE_LOOKUPS: dict[type[Model], str] = {
    Course: "pk",
    Section: "course",
    Enrollment: "course",
    Category: "course",
    Assignment: "course",
    Question: "assignment__course",
    Extension: "assignment__course",
    ProjectGroup: "course",
    GroupMembership: "course",
}
TEACHING_ROLES = frozenset({Role.INSTRUCTOR})


def in_courses(qs: QuerySet[M], *, user: Any, roles: frozenset[str]) -> QuerySet[M]:
    """The rows of ``qs`` that belong to courses where ``user`` has one of ``roles``; for
    people, those enrolled in such a course. A subquery, so it costs no query of its own. A
    model that belongs to no course gives nothing."""
    courses = Enrollment.objects.filter(user_id=user.pk, role__in=sorted(roles)).values("course_id")
    if qs.model is get_user_model():
        return qs.filter(pk__in=Enrollment.objects.filter(course__in=courses).values("user_id"))
    lookup = COURSE_LOOKUPS.get(qs.model)
    if lookup is None:
        return qs.none()
    return qs.filter(**{f"{lookup}__in": courses})


def course_id_of(obj: Model) -> int | None:
    """The id of the course a row belongs to (it may follow one foreign key: a question's
    assignment)."""
    *path, last = COURSE_LOOKUPS[type(obj)].split("__")
    if last == "pk":
        return obj.pk
    target: Any = obj
    for name in path:
        target = getattr(target, name)
    return getattr(target, f"{last}_id")


def _courses_taught(request: HttpRequest) -> set[int]:
    """The ids of the courses the caller teaches, read once per request."""
    taught: set[int] | None = getattr(request, "_courses_taught", None)
    if taught is None:
        taught = set(
            in_courses(Course.objects.all(), user=request.user, roles=TEACHING_ROLES).values_list(
                "pk", flat=True
            )
        )
        request._courses_taught = taught  # type: ignore[attr-defined]
    return taught


class ShownValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """Offers the values found among the rows the admin shows. Django's own filter, for a field
    of a related model (``category__slug``), offers those of the whole related table, other
    courses' included."""

    def __init__(
        self, field: Any, request: Any, params: Any, model: Any, model_admin: Any, field_path: str
    ) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = (
            model_admin.get_queryset(request)
            .order_by(field_path)
            .values_list(field_path, flat=True)
            .distinct()
        )


if TYPE_CHECKING:
    _AdminBase = BaseModelAdmin[Any]
else:
    _AdminBase = object


class CourseScopedMixin(_AdminBase):
    """For everyone but a superuser: rows of the caller's courses only (instructor or TA),
    changes and deletions only in the courses they teach, and form choices among the rows of
    the courses they teach. Used by every admin and inline here."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return in_courses(qs, user=request.user, roles=STAFF_ROLES)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if not request.user.is_superuser:
            related = db_field.remote_field.model
            queryset = kwargs.get("queryset")
            if queryset is None:
                queryset = self.get_field_queryset(kwargs.get("using"), db_field, request)
            if queryset is None:
                queryset = related._default_manager.all()
            lookup = COURSE_LOOKUPS.get(related, "pk")
            if lookup != "pk":  # the choices' labels name the course
                queryset = queryset.select_related(lookup)
            kwargs["queryset"] = in_courses(queryset, user=request.user, roles=TEACHING_ROLES)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_autocomplete_fields(self, request: HttpRequest) -> Any:
        # The autocomplete view looks people up in the user admin, which only a superuser may
        # use; a course's choices are few enough for a plain select.
        if request.user.is_superuser:
            return super().get_autocomplete_fields(request)
        return ()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self.teaches(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self.teaches(request, obj)

    def teaches(self, request: HttpRequest, obj: Model | None) -> bool:
        """Whether the caller teaches the course of ``obj`` (for an inline: of its parent);
        with no object, the permission alone decides."""
        if obj is None or request.user.is_superuser:
            return True
        return course_id_of(obj) in _courses_taught(request)


class CourseScopedAdmin(CourseScopedMixin, admin.ModelAdmin):
    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None and not request.user.is_superuser:
            # Outside the caller's courses, or gone: either way, not found.
            raise Http404(f"No {self.opts.verbose_name} with this id in your courses.")
        return obj

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = super().get_list_filter(request)
        if request.user.is_superuser:
            return filters
        return [self._scoped_filter(item) for item in filters]

    def _scoped_filter(self, item: Any) -> Any:
        """A list filter that offers only values of the caller's rows: a related row among
        those the rows refer to, a related model's field among the values the rows have."""
        path, filter_class = item if isinstance(item, tuple) else (item, None)
        if not isinstance(path, str):
            return item  # a SimpleListFilter: its own lookups
        field = get_fields_from_path(self.model, path)[-1]
        if field.is_relation:
            return (path, admin.RelatedOnlyFieldListFilter)
        takes_all_values = filter_class is admin.AllValuesFieldListFilter or (
            filter_class is None
            and not field.choices
            and not isinstance(field, BooleanField | DateField)
        )
        if "__" in path and takes_all_values:
            return (path, ShownValuesFieldListFilter)
        return item


class CourseScopedInline(CourseScopedMixin, admin.TabularInline):
    def has_add_permission(self, request: HttpRequest, obj: Any) -> bool:  # type: ignore[override]
        return super().has_add_permission(request, obj) and self.teaches(request, obj)
