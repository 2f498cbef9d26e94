"""`python manage.py jobs_housekeep`: what the beat tasks `jobs.housekeep` and `jobs.retrain_check`
do, once, now (for a deployment without beat, or from cron)."""

from django.core.management.base import BaseCommand

from jobs.housekeeping import jobs_housekeep, retrain_check


class Command(BaseCommand):
    help = ("Fail jobs whose worker died, remove killed training jobs' leftovers, store missing song signatures, "
            "run the retraining check.")

    def handle(self, *args, **options):
        done = jobs_housekeep()
        queued = retrain_check()
        self.stdout.write(f"{done['failed_stale']} stale jobs failed, {done['swept']} training leftovers removed, "
                          f"{done['signatures']} song signatures stored, {queued} retraining jobs queued.")
