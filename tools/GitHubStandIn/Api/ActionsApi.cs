using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>GitHub Actions: workflow dispatches and deployment protection rule answers.</summary>
public sealed partial class StandInServer
{
    private void MapActions(WebApplication web)
    {
        web.MapPost("/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches", () => Results.NoContent());
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
    public JsonObject ProtectionRuleRequested(StandInRepository repository, string environment, string sha, long runId, string requester, long installationId)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var deployment = new StandInDeployment
        {
            Id = State.NextDeploymentId(), Repository = repository, Sha = sha, Ref = repository.DefaultBranch, Task = "deploy",
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
}
