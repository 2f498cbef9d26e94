"""Account, project, membership, assignment and activity pages and API: thin views (permission
helper, validate, call a service, respond)."""

from __future__ import annotations

from common.errors import ApiError
from common.pagination import Pagination
from common.schema import paginated
from common.validation import page_query, query_validated
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import Role
from accounts.permissions import ProjectRolePermission, project_required, role_at_least
from accounts.serializers import (
    ActivityPageQuerySerializer,
    ActivityQuerySerializer,
    ActivitySerializer,
    MemberAddSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
    ProjectCreateSerializer,
    ProjectListQuerySerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
)

# -- accounts ---------------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Django's login; django-axes refuses (429) a username + address after too many recent failures
    (accounts.lockout)."""

    template_name = "accounts/login.html"


def admin_login(request):
    """/admin/login/ -> /login/?next=...: Django admin's own login form has no rate limit."""
    return auth_views.redirect_to_login(request.GET.get("next") or "/admin/", login_url=reverse("login"))


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        revoked = services.password_changed(user=form.user)
        messages.success(self.request, "Your password was changed." + (
            f" Your {revoked} API token{'s were' if revoked != 1 else ' was'} revoked; make new ones on your profile page."
            if revoked else ""))
        return response


@login_required
def home(request):
    return render(request, "common/home.html", {"projects": selectors.projects_for_user(user=request.user)})


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name (what will use it?)")


@login_required
def profile_page(request):
    """Your account: password, and API tokens (create with a name, see last use, revoke)."""
    new_key = None
    form = TokenCreateForm()
    error = ""
    status_code = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "create":
                form = TokenCreateForm(request.POST)
                if form.is_valid():
                    _, key = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
                    request.session["new_token_key"] = key  # shown once, after the redirect (a reload makes none)
                    return redirect("profile")
                status_code = 400
            elif action == "revoke":
                name = services.api_token_revoke(user=request.user, token_id=request.POST.get("token", ""))
                messages.success(request, f"Revoked the token {name!r}: scripts using it are refused from now on.")
                return redirect("profile")
            else:
                messages.error(request, "Unknown action.")
        except ApiError as exc:
            error = str(exc.detail)
            status_code = exc.status_code
    if request.method == "GET":
        new_key = request.session.pop("new_token_key", None)
    memberships = selectors.memberships_for_user(user=request.user)
    return render(request, "accounts/profile.html", {
        "tokens": selectors.api_tokens_for_user(user=request.user), "form": form, "new_key": new_key,
        "memberships": memberships, "error": error,
    }, status=status_code)


class InviteAcceptForm(forms.Form):
    username = forms.CharField(max_length=150, help_text="Letters, digits and @ . + - _ only.")
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)

    def clean_username(self):
        from django.contrib.auth.validators import UnicodeUsernameValidator

        username = self.cleaned_data["username"].strip()
        UnicodeUsernameValidator()(username)
        if selectors.username_taken(username=username):
            raise forms.ValidationError(f"The username {username!r} is taken; choose another.")
        return username

    def clean(self):
        from django.contrib.auth.password_validation import validate_password

        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1 and data.get("username"):
            try:
                validate_password(p1, user=get_user_model()(username=data["username"]))
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


def invitation_page(request, key: str):
    """An invitation link: a new user picks a username and password; a signed-in one joins as is."""
    from django.contrib.auth import login

    invitation = selectors.invitation_for_key(key=key)
    problem = services.invitation_problem(invitation)
    if problem:
        return render(request, "accounts/invitation.html", {"problem": problem}, status=410 if invitation else 404)
    form = InviteAcceptForm(request.POST or None) if not request.user.is_authenticated else None
    error = ""
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                membership = services.invitation_accept(key=key, user=request.user)
            elif form.is_valid():
                membership = services.invitation_accept(key=key, username=form.cleaned_data["username"],
                                                        password=form.cleaned_data["password1"])
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                membership = None
        except ApiError as exc:
            error = str(exc.detail)
            membership = None
        if membership is not None:
            messages.success(request, f"Welcome to {membership.project.name}: you joined as {membership.role}.")
            return redirect("song-list", project_id=membership.project_id)
    return render(request, "accounts/invitation.html", {"invitation": invitation, "form": form, "error": error},
                  status=400 if request.method == "POST" else 200)


# -- pages ------------------------------------------------------------------------------------------


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class SettingsForm(ProjectForm):
    retrain_after_verified = forms.IntegerField(
        min_value=0, max_value=100_000, label="Retrain after this many newly verified songs (0 = never)")
    auto_activate_margin = forms.FloatField(
        required=False, min_value=-1, max_value=1,
        label="Activate a new model automatically when its test F1 beats the active one by (empty = never)")
    verifier_must_differ = forms.BooleanField(
        required=False, label="The verifier must differ from the author: nobody verifies segments they made or a "
                              "revision they submitted")


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANNOTATOR)


class InviteForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANNOTATOR)
    note = forms.CharField(max_length=200, required=False, label="For (a note for the admins)")
    days = forms.IntegerField(min_value=1, max_value=30, initial=7, label="Valid for (days)")


def _api_error_to_message(request, exc: ApiError) -> None:
    messages.error(request, str(exc.detail))


@login_required
def project_new_page(request):
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(name=form.cleaned_data["name"], created_by=request.user,
                                              description=form.cleaned_data["description"])
        except ApiError as exc:
            form.add_error("name", str(exc.detail))
        else:
            messages.success(request, f"Created {project.name}. Upload songs, or invite people on the Members page.")
            return redirect("song-list", project_id=project.pk)
    return render(request, "accounts/project_new.html", {"form": form})


@project_required(roles={"POST": Role.ADMIN})
def members_page(request, project_id: int):
    project = request.project
    is_admin = role_at_least(request.role, Role.ADMIN)
    form = MemberAddForm()
    invite_form = InviteForm()
    invite_link = None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "add":
                form = MemberAddForm(request.POST)
                if form.is_valid():
                    m = services.member_add(project=project, actor=request.user, **form.cleaned_data)
                    messages.success(request, f"Added {m.user.get_username()} as {m.role}.")
                    return redirect("project-members", project_id=project.pk)
            elif action == "invite":
                invite_form = InviteForm(request.POST)
                if invite_form.is_valid():
                    invitation, key = services.invitation_create(project=project, actor=request.user,
                                                                 **invite_form.cleaned_data)
                    # shown once, after the redirect (a reload makes no second invitation)
                    request.session["invite_link"] = {
                        "url": request.build_absolute_uri(reverse("invitation", kwargs={"key": key})),
                        "invitation": invitation.pk, "project": project.pk}
                    return redirect(reverse("project-members", kwargs={"project_id": project.pk}) + "#invitations")
            elif action == "revoke_invite":
                services.invitation_revoke(project=project, actor=request.user,
                                           invitation_id=request.POST.get("invitation"))
                messages.success(request, "The invitation link was revoked; it no longer works.")
                return redirect("project-members", project_id=project.pk)
            elif action in ("role", "remove"):
                membership = selectors.membership_get(project=project, user_id=request.POST.get("user"))
                if action == "role":
                    services.member_update(membership=membership, actor=request.user, role=request.POST.get("role", ""))
                    messages.success(request, f"{membership.user.get_username()} is now {request.POST.get('role')}.")
                else:
                    services.member_remove(membership=membership, actor=request.user)
                    messages.success(request, f"Removed {membership.user.get_username()}.")
                    if membership.user_id == request.user.pk:
                        return redirect("home")
                return redirect("project-members", project_id=project.pk)
            else:
                messages.error(request, "Unknown action.")
        except ApiError as exc:
            _api_error_to_message(request, exc)
            if action not in ("add", "invite"):
                return redirect("project-members", project_id=project.pk)
    if request.method == "GET" and is_admin and (shown := request.session.pop("invite_link", None)):
        invitation = selectors.invitations_open(project=project).filter(pk=shown.get("invitation")).first()
        if invitation is not None and shown.get("project") == project.pk:
            invite_link = {"url": shown["url"], "invitation": invitation}
            invite_form = InviteForm(initial={"role": invitation.role})
    members = selectors.members_list(project=project)
    failed = request.method == "POST"
    return render(request, "accounts/members.html", {
        "project": project, "members": members, "is_admin": is_admin, "form": form, "roles": Role.choices,
        "invite_form": invite_form, "invite_link": invite_link,
        "invitations": selectors.invitations_open(project=project) if is_admin else [],
    }, status=400 if failed else 200)


@project_required(Role.ADMIN)
def settings_page(request, project_id: int):
    project = request.project
    initial = {"name": project.name, "description": project.description,
               "retrain_after_verified": project.retrain_after_verified,
               "auto_activate_margin": project.auto_activate_margin,
               "verifier_must_differ": project.verifier_must_differ}
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.project_update(project=project, actor=request.user, **form.cleaned_data)
        except ApiError as exc:
            form.add_error(None, str(exc.detail))
        else:
            messages.success(request, "Settings saved.")
            return redirect("project-settings", project_id=project.pk)
    return render(request, "accounts/settings.html", {"project": project, "form": form})


@project_required()
@page_query(ActivityPageQuerySerializer)
def activity_page(request, project_id: int):
    project = request.project
    verb = request.query["verb"][:40]  # shown back in the page's filter
    page = Paginator(selectors.activity_list(project=project, verb=verb), 50).get_page(request.query["page"])
    verbs = ["project", "member", "song", "annotation", "job", "model", "report", "import"]
    return render(request, "accounts/activity.html", {"project": project, "page": page, "verb": verb, "verbs": verbs})


# -- API --------------------------------------------------------------------------------------------


class ProjectListCreate(APIView):
    """GET: your projects (paginated). POST {name, description}: a new project; you become its admin."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="projects_list", responses=paginated(ProjectSerializer))
    def get(self, request):
        query = query_validated(ProjectListQuerySerializer, request)
        qs = selectors.projects_search(user=request.user, search=query["search"])
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(ProjectSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(request=ProjectCreateSerializer, responses={201: ProjectSerializer})
    def post(self, request):
        data = ProjectCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_create(created_by=request.user, **data.validated_data)
        return Response(ProjectSerializer(project, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ProjectDetail(APIView):
    """GET: a project you belong to. PATCH (admin): name, description, retraining policy."""

    permission_classes = [IsAuthenticated, ProjectRolePermission]
    project_roles = {"PATCH": Role.ADMIN}

    @extend_schema(responses=ProjectSerializer)
    def get(self, request, project_id: int):
        return Response(ProjectSerializer(request.project, context={"request": request}).data)

    @extend_schema(request=ProjectUpdateSerializer, responses=ProjectSerializer)
    def patch(self, request, project_id: int):
        data = ProjectUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        project = services.project_update(project=request.project, actor=request.user, **fields)
        return Response(ProjectSerializer(project, context={"request": request}).data)


class MemberListCreate(APIView):
    """GET: the project's members and roles. POST (admin) {username, role}: add a member."""

    permission_classes = [IsAuthenticated, ProjectRolePermission]
    project_roles = {"POST": Role.ADMIN}

    @extend_schema(responses=MemberSerializer(many=True))
    def get(self, request, project_id: int):
        members = selectors.members_list(project=request.project)
        return Response(MemberSerializer(members, many=True).data)

    @extend_schema(request=MemberAddSerializer, responses={201: MemberSerializer})
    def post(self, request, project_id: int):
        data = MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.member_add(project=request.project, actor=request.user, **data.validated_data)
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetail(APIView):
    """GET a member; PATCH (admin) {role}; DELETE (admin) removes them. A project keeps one admin."""

    permission_classes = [IsAuthenticated, ProjectRolePermission]
    project_roles = {"PATCH": Role.ADMIN, "DELETE": Role.ADMIN}

    @extend_schema(responses=MemberSerializer)
    def get(self, request, project_id: int, user_id: int):
        return Response(MemberSerializer(selectors.membership_get(project=request.project, user_id=user_id)).data)

    @extend_schema(request=MemberUpdateSerializer, responses=MemberSerializer)
    def patch(self, request, project_id: int, user_id: int):
        data = MemberUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = selectors.membership_get(project=request.project, user_id=user_id)
        membership = services.member_update(membership=membership, actor=request.user, role=data.validated_data["role"])
        return Response(MemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request, project_id: int, user_id: int):
        membership = selectors.membership_get(project=request.project, user_id=user_id)
        services.member_remove(membership=membership, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActivityList(APIView):
    """GET: the project's activity log, newest first (?verb=prefix, limit, offset)."""

    permission_classes = [IsAuthenticated, ProjectRolePermission]

    @extend_schema(operation_id="projects_activity_list", responses=paginated(ActivitySerializer))
    def get(self, request, project_id: int):
        qs = selectors.activity_list(project=request.project, verb=query_validated(ActivityQuerySerializer, request)["verb"])
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(ActivitySerializer(page, many=True).data)
