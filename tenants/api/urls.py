from django.urls import path

from tenants.api import views

urlpatterns = [
    path("signup/", views.SignupView.as_view(), name="signup"),
    path("auth/token/", views.TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("auth/me/", views.MeView.as_view(), name="me"),
    path("auth/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("auth/switch-tenant/", views.SwitchTenantView.as_view(), name="switch-tenant"),
    path("auth/password-reset/", views.PasswordResetRequestView.as_view(), name="password-reset"),
    path("auth/password-reset/confirm/", views.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    path("auth/verify-email/", views.EmailVerifyView.as_view(), name="email-verify"),
    path("auth/verify-email/resend/", views.EmailVerificationResendView.as_view(), name="email-verification-resend"),
    path("tenant/", views.TenantView.as_view(), name="tenant"),
    path("tenants/", views.TenantCreateView.as_view(), name="tenant-create"),
    path("members/", views.MemberListView.as_view(), name="member-list"),
    path("members/<uuid:id>/", views.MemberDetailView.as_view(), name="member-detail"),
    path("invitations/", views.InvitationListView.as_view(), name="invitation-list"),
    path("invitations/accept/", views.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("invitations/<uuid:id>/", views.InvitationDetailView.as_view(), name="invitation-detail"),
    path("api-keys/", views.ApiKeyListView.as_view(), name="api-key-list"),
    path("api-keys/<uuid:id>/", views.ApiKeyDetailView.as_view(), name="api-key-detail"),
    path("api-keys/<uuid:id>/revoke/", views.ApiKeyRevokeView.as_view(), name="api-key-revoke"),
]
