# Email verification: users.email_verified_at and the emails' dispatch rows.

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0005_analyze_function'),
    ]

    operations = [
        # Users who exist before this migration count as verified, so nothing that works
        # today stops working (the column's default fills them in, then goes; DDL, so no
        # Row Level Security is in the way); users created from now on start unverified.
        migrations.AddField(
            model_name='user',
            name='email_verified_at',
            field=models.DateTimeField(blank=True, null=True, default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name='user',
            name='email_verified_at',
            field=models.DateTimeField(blank=True, help_text='When the address was shown to reach the user (the emailed link, an accepted invitation or a password reset); empty: not verified, and the user cannot invite anyone.', null=True),
        ),
        migrations.CreateModel(
            name='EmailVerificationRequest',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('dispatched_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('dispatch_attempts', models.PositiveSmallIntegerField(default=1)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(condition=models.Q(('sent_at__isnull', True)), fields=['dispatched_at'], name='verification_unsent')],
            },
        ),
    ]
