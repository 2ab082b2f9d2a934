using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>GitHub Actions: workflow dispatches and their runs, and deployment protection rule answers.</summary>
public sealed partial class StandInServer
{
    private void MapActions(WebApplication web)
    {
        web.MapPost("/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches", DispatchAsync);
        web.MapGet("/repos/{owner}/{repo}/actions/workflows/{workflow}/runs", (string owner, string repo, string workflow, string? @event, string? branch) =>
        {
            lock (State.Gate)
            {
                var runs = State.WorkflowRuns
                    .Where(r => string.Equals(r.Repository.FullName, $"{owner}/{repo}", StringComparison.OrdinalIgnoreCase) && r.Workflow == workflow)
                    .Where(r => @event is null || @event == "workflow_dispatch")
                    .Where(r => branch is null || r.Ref == branch)
                    .OrderByDescending(r => r.Id)
                    .Select(r => (JsonNode)GitHubShapes.WorkflowRun(BaseAddress, r))
                    .ToList();
                return Json(200, new JsonObject { ["total_count"] = runs.Count, ["workflow_runs"] = new JsonArray([.. runs]) });
            }
        });
        web.MapGet("/repos/{owner}/{repo}/actions/runs/{run:long}", (string owner, string repo, long run) =>
        {
            lock (State.Gate)
            {
                return State.WorkflowRuns.FirstOrDefault(r => r.Id == run && string.Equals(r.Repository.FullName, $"{owner}/{repo}", StringComparison.OrdinalIgnoreCase)) is { } found
                    ? Json(200, GitHubShapes.WorkflowRun(BaseAddress, found))
                    : NotFound();
            }
        });
        web.MapPost("/repos/{owner}/{repo}/actions/runs/{run:long}/deployment_protection_rule", async (long run, HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            var state = (string?)body?["state"];
            if (state is not ("approved" or "rejected") || (string?)body!["environment_name"] is not { } environment)
            {
                return ValidationFailed("Invalid request.\n\n\"state\" and \"environment_name\" are required.", "https://docs.github.com/rest/actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run");
            }

            // One answer per pending rule: a second is refused, as GitHub does once nothing is pending.
            if (State.ProtectionAnswers.Any(a => a.RunId == run && a.Environment == environment))
            {
                return ValidationFailed("No pending deployment protection rule found for this environment.", "https://docs.github.com/rest/actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run");
            }

            State.ProtectionAnswers.Enqueue((run, environment, state, (string?)body["comment"] ?? ""));
            return Results.NoContent();
        });
    }

    /// <summary>
    /// DERIVED (no example exists in @octokit/webhooks-examples; shape from @octokit/openapi-webhooks,
    /// webhook-deployment-protection-rule-requested): a workflow job's deployment to <paramref name="environment"/> asks
    /// the app's protection rule; the answer goes to the callback for run <paramref name="runId"/>.
    /// </summary>
    public JsonObject ProtectionRuleRequested(
        StandInRepository repository, string environment, string sha, long runId, string requester, long installationId, string? reference = null)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var deployment = new StandInDeployment
        {
            Id = State.NextDeploymentId(), Repository = repository, Sha = sha, Ref = reference ?? repository.DefaultBranch, Task = "deploy",
            Environment = environment, Creator = requester, CreatedAt = options.Clock.GetUtcNow(), Request = new JsonObject(),
        };
        return new JsonObject
        {
            ["action"] = "requested",
            ["environment"] = environment,
            ["event"] = "push",
            ["deployment_callback_url"] = new Uri(BaseAddress, $"repos/{repository.FullName}/actions/runs/{runId}/deployment_protection_rule").ToString(),
            ["deployment"] = GitHubShapes.Deployment(BaseAddress, repository, deployment),
            ["pull_requests"] = new JsonArray(),
            ["repository"] = GitHubShapes.Repository(BaseAddress, repository),
            ["installation"] = new JsonObject { ["id"] = installationId, ["node_id"] = "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u" },
            ["sender"] = GitHubShapes.Person(BaseAddress, requester),
        };
    }

    /// <summary>
    /// <c>workflow_dispatch</c>: starts a run of the workflow at <c>ref</c> with the inputs; with <c>return_run_details</c>
    /// the answer is 200 with the run's id and URLs, without it 204 (GitHub's two answers).
    /// </summary>
    private async Task<IResult> DispatchAsync(string owner, string repo, string workflow, HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        if ((string?)body?["ref"] is not { Length: > 0 } reference)
        {
            return ValidationFailed("Invalid request.\n\n\"ref\" wasn't supplied.", "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event");
        }

        var repository = State.Repository(owner, repo);
        var inputs = body["inputs"] as JsonObject ?? [];
        var runName = State.RunNames.TryGetValue((repository.FullName, workflow), out var named) ? named : StandInState.DefaultRunName;
        var title = runName is null
            ? workflow
            : inputs.Aggregate(runName, (text, input) => text.Replace("{" + input.Key + "}", (string?)input.Value ?? "", StringComparison.Ordinal));
        var run = new StandInWorkflowRun
        {
            Id = State.NextId(), Repository = repository, Workflow = workflow, Ref = reference, Inputs = (JsonObject)inputs.DeepClone(),
            DisplayTitle = title, Actor = Actor(context), CreatedAt = options.Clock.GetUtcNow(), UpdatedAt = options.Clock.GetUtcNow(),
        };
        lock (State.Gate)
        {
            State.WorkflowRuns.Add(run);
        }

        return (bool?)body["return_run_details"] == true && State.DispatchRunDetails
            ? Json(200, new JsonObject
            {
                ["workflow_run_id"] = run.Id,
                ["run_url"] = new Uri(BaseAddress, $"repos/{repository.FullName}/actions/runs/{run.Id}").ToString(),
                ["html_url"] = $"https://github.com/{repository.FullName}/actions/runs/{run.Id}",
            })
            : Results.NoContent();
    }

    /// <summary>A workflow run ends as GitHub Actions ends one: <c>completed</c> with a conclusion, and a <c>workflow_run</c> webhook.</summary>
    public void CompleteRun(long runId, string conclusion)
    {
        StandInWorkflowRun run;
        lock (State.Gate)
        {
            run = State.WorkflowRuns.Single(r => r.Id == runId);
            run.Status = "completed";
            run.Conclusion = conclusion;
            run.UpdatedAt = options.Clock.GetUtcNow();
        }

        Announce("workflow_run", new JsonObject
        {
            ["action"] = "completed",
            ["workflow_run"] = GitHubShapes.WorkflowRun(BaseAddress, run),
            ["workflow"] = GitHubShapes.Workflow(BaseAddress, run.Repository, run.Workflow),
            ["repository"] = GitHubShapes.Repository(BaseAddress, run.Repository),
            ["sender"] = GitHubShapes.Person(BaseAddress, run.Actor, GitHubShapes.UserType(run.Actor)),
        });
    }
}
