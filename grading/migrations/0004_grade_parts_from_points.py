"""Existing grades become parts: a grade a person set (a staff or regrade change in its
history) becomes an override, the others (the autograder's) the autograded part. On an
assignment with questions, a whole-assignment row keeps only ``excused``."""

from django.db import migrations


def forwards(apps, schema_editor):
    Grade = apps.get_model("grading", "Grade")
    GradeChange = apps.get_model("grading", "GradeChange")
    Question = apps.get_model("courses", "Question")
    human = set(
        GradeChange.objects.filter(source__in=["staff", "regrade"]).values_list("grade_id", flat=True)
    )
    with_questions = set(Question.objects.values_list("assignment_id", flat=True))
    for grade in Grade.objects.filter(points__isnull=False).iterator():
        if grade.question == "" and grade.assignment_id in with_questions:
            grade.points = None
        elif grade.pk in human:
            grade.override = grade.points
        else:
            grade.autograded = grade.points
        grade.save(update_fields=["points", "override", "autograded"])


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0005_question_tests"),
        ("grading", "0003_one_grade_truth"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
