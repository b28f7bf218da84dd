"""The Django admin for courses: every model, searchable and filterable, so an instructor can
find a student, a section or an assignment quickly. Changelists select their related rows in
the same query, so a page costs the same whatever its length.

Who sees what (a superuser everything, course staff only the rows of their courses) is
``courses.admin.scoping``; one module per domain registers its admins: ``course`` (courses,
sections, categories), ``roster``, ``assignments`` (and questions), ``extensions``, ``groups``
(project groups and memberships). Importing this package registers them all, as Django's admin
autodiscovery does."""

from courses.admin.assignments import AssignmentAdmin, QuestionAdmin, QuestionInline
from courses.admin.course import (
    CategoryAdmin,
    CategoryInline,
    CourseAdmin,
    SectionAdmin,
    SectionInline,
)
from courses.admin.extensions import EXTENSION_REFERENCE_HELP, ExtensionAdmin, ExtensionForm
from courses.admin.groups import (
    GroupMembershipAdmin,
    GroupMembershipForm,
    GroupMembershipFormSet,
    GroupMembershipInline,
    ProjectGroupAdmin,
)
from courses.admin.roster import EnrollmentAdmin
from courses.admin.scoping import (
    COURSE_LOOKUPS,
    TEACHING_ROLES,
    CourseScopedAdmin,
    CourseScopedChoiceField,
    CourseScopedInline,
    CourseScopedMixin,
    ShownValuesFieldListFilter,
    course_id_of,
    in_courses,
)

__all__ = [
    "COURSE_LOOKUPS",
    "EXTENSION_REFERENCE_HELP",
    "TEACHING_ROLES",
    "AssignmentAdmin",
    "CategoryAdmin",
    "CategoryInline",
    "CourseAdmin",
    "CourseScopedAdmin",
    "CourseScopedChoiceField",
    "CourseScopedInline",
    "CourseScopedMixin",
    "EnrollmentAdmin",
    "ExtensionAdmin",
    "ExtensionForm",
    "GroupMembershipAdmin",
    "GroupMembershipForm",
    "GroupMembershipFormSet",
    "GroupMembershipInline",
    "ProjectGroupAdmin",
    "QuestionAdmin",
    "QuestionInline",
    "SectionAdmin",
    "SectionInline",
    "ShownValuesFieldListFilter",
    "course_id_of",
    "in_courses",
]
