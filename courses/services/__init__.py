"""Every write to courses: loading a course from its config, importing a roster, project
groups, Dean of Students extensions.

Each service is keyword-only and runs in one transaction: it either does all of its work or,
refusing, none of it. A run that finds nothing to change writes nothing at all.

One module per domain; callers import from here:

- ``course_load``: ``course_load``, its :class:`LoadReport`, :class:`CourseConfigRefused`,
  :class:`CourseChangedInPortal` (the course was changed in the portal since its last load)
- ``course_export``: ``course_export``, the course as its TOML (a read: the reverse of
  ``course_load``, which records it at each load)
- ``roster``: ``roster_import``, its :class:`RosterReport`; ``roster_file``: reading and
  checking the CSV (``ROSTER_COLUMNS``, :class:`RosterRefused`)
- ``staff``: the admin's staff groups (``staff_groups_ensure``) and letting staff in
- ``groups``: ``group_create``, ``group_join``, ``group_leave``, ``group_max_size``
- ``extensions``: ``extension_grant``, ``extension_revoke``
- ``notifications``: ``notification_preferences_set`` (which emails a person wants)
- ``anonymity``: ``assignment_names_reveal`` (anonymous grading: names shown to TAs or not)
- ``settings``: the instructor's course settings (``assignment_settings_update``,
  ``categories_set``, ``course_settings_update``), each change kept in the change log
"""

from courses.services.anonymity import assignment_names_reveal
from courses.services.course_export import course_export
from courses.services.course_load import (
    CourseChangedInPortal,
    CourseConfigRefused,
    LoadReport,
    course_load,
)
from courses.services.extensions import extension_grant, extension_revoke
from courses.services.groups import (
    JOIN_CODE_ALPHABET,
    AlreadyInGroup,
    group_create,
    group_join,
    group_leave,
    group_max_size,
)
from courses.services.notifications import notification_preferences_set
from courses.services.roster import RosterReport, roster_import
from courses.services.roster_file import ROSTER_COLUMNS, RosterRefused
from courses.services.settings import (
    AssignmentUpdate,
    CategoryInput,
    assignment_settings_update,
    assignment_timing_impact,
    categories_set,
    changes_record,
    course_settings_update,
)
from courses.services.staff import (
    STAFF_GROUP_PERMISSIONS,
    STAFF_GROUPS,
    head_tas_set,
    staff_groups_ensure,
)

__all__ = [
    "JOIN_CODE_ALPHABET",
    "ROSTER_COLUMNS",
    "STAFF_GROUPS",
    "STAFF_GROUP_PERMISSIONS",
    "AlreadyInGroup",
    "AssignmentUpdate",
    "CategoryInput",
    "CourseChangedInPortal",
    "CourseConfigRefused",
    "LoadReport",
    "RosterRefused",
    "RosterReport",
    "assignment_names_reveal",
    "assignment_settings_update",
    "assignment_timing_impact",
    "categories_set",
    "changes_record",
    "course_export",
    "course_load",
    "course_settings_update",
    "extension_grant",
    "extension_revoke",
    "group_create",
    "group_join",
    "group_leave",
    "group_max_size",
    "head_tas_set",
    "notification_preferences_set",
    "roster_import",
    "staff_groups_ensure",
]
