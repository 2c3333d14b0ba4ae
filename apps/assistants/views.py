"""Assistant pages: the assistants, a chat, "My memories", the lesson-planning assistant."""

from __future__ import annotations

import functools
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from apps.assistants import selectors
from apps.assistants.forms import ChatForm, MemoryForm, MemoryPreferenceForm, PlanDraftForm
from apps.assistants.services import chat, memories, planning
from apps.core.exceptions import DomainError, NotFoundError, PermissionDeniedError


def _domain_errors(view):
    """Domain errors as the site's 404 and 403 pages."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFoundError as error:
            raise Http404(error.message) from error
        except PermissionDeniedError as error:
            raise PermissionDenied(error.message) from error

    return wrapper


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The assistants one may talk to, and one's recent conversations."""
    return render(
        request,
        "assistants/index.html",
        {
            "profiles": selectors.profile_list(),
            "conversations": selectors.conversation_list(user=request.user)[:10],
            "can_plan": planning.lesson_planning_allowed(user=request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@_domain_errors
def chat_page(request: HttpRequest, profile_id) -> HttpResponse:
    """A conversation with one assistant (?c=<conversation id>; none starts a new one)."""
    profile = selectors.profile_get(profile_id=profile_id)
    conversation = None
    if request.GET.get("c"):
        try:
            conversation_id = uuid.UUID(request.GET["c"])
        except ValueError as error:
            raise Http404("No such conversation.") from error
        conversation = selectors.conversation_get(
            user=request.user, conversation_id=conversation_id
        )
    form = ChatForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = chat.chat_turn(
                user=request.user,
                profile=profile,
                text=form.cleaned_data["message"],
                conversation=conversation,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if not result.ok:
                messages.error(request, f"The assistant could not answer: {result.error}")
            url = reverse("assistants:chat", kwargs={"profile_id": profile.pk})
            return redirect(f"{url}?c={result.conversation.pk}")
    return render(
        request,
        "assistants/chat.html",
        {
            "profile": profile,
            "conversation": conversation,
            "chat_messages": (
                selectors.conversation_messages(conversation=conversation) if conversation else []
            ),
            "form": form,
            "memory_on": selectors.memory_enabled_for(user=request.user),
        },
    )


@login_required
def memory_page(request: HttpRequest) -> HttpResponse:
    """What each assistant remembers about me: see, edit, forget; turn memory off."""
    items = [
        (memory, MemoryForm(initial={"content": memory.content, "importance": memory.importance}))
        for memory in selectors.memory_list(user=request.user)
    ]
    preference_form = MemoryPreferenceForm(
        initial={"memory_enabled": selectors.memory_enabled_for(user=request.user)}
    )
    return render(
        request,
        "assistants/memories.html",
        {"items": items, "preference_form": preference_form},
    )


@login_required
@require_POST
@_domain_errors
def memory_edit(request: HttpRequest, memory_id) -> HttpResponse:
    memory = selectors.memory_get(user=request.user, memory_id=memory_id)
    form = MemoryForm(request.POST)
    if form.is_valid():
        try:
            memories.memory_update(actor=request.user, memory=memory, **form.cleaned_data)
        except (ValidationError, DomainError) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, "Memory saved.")
    else:
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
    return redirect("assistants:memories")


@login_required
@require_POST
@_domain_errors
def memory_forget(request: HttpRequest, memory_id) -> HttpResponse:
    memory = selectors.memory_get(user=request.user, memory_id=memory_id)
    memories.memory_forget(actor=request.user, memory=memory)
    messages.success(request, "Forgotten.")
    return redirect("assistants:memories")


@login_required
@require_POST
def memory_forget_all(request: HttpRequest) -> HttpResponse:
    count = memories.memory_forget_all(user=request.user)
    messages.success(request, f"Forgot {count} memories.")
    return redirect("assistants:memories")


@login_required
@require_POST
def memory_preference(request: HttpRequest) -> HttpResponse:
    form = MemoryPreferenceForm(request.POST)
    form.is_valid()
    enabled = bool(form.cleaned_data.get("memory_enabled"))
    memories.memory_preference_set(user=request.user, memory_enabled=enabled)
    messages.success(request, "Memory is on." if enabled else "Memory is off.")
    return redirect("assistants:memories")


@login_required
@require_http_methods(["GET", "POST"])
@_domain_errors
def planner(request: HttpRequest) -> HttpResponse:
    """Ask the lesson-planning assistant for a draft; it is saved as a draft plan and opened in
    the lesson planner for the teacher to edit."""
    form = PlanDraftForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            draft = planning.lesson_plan_draft(teacher=request.user, **form.cleaned_data)
            plan = planning.lesson_plan_draft_save(teacher=request.user, draft=draft)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Draft ready: edit it and save.")
            return redirect("content:plan_edit", plan_id=plan.pk)
    return render(request, "assistants/planner.html", {"form": form})
