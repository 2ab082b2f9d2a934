using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>Deployments and their statuses (REST <c>/repos/{owner}/{repo}/deployments</c>), each announced as a webhook.</summary>
public sealed partial class StandInServer
{
    private void MapDeployments(WebApplication web)
    {
        web.MapPost("/repos/{owner}/{repo}/deployments", CreateDeploymentAsync);
        web.MapGet("/repos/{owner}/{repo}/deployments", ListDeployments);
        web.MapGet("/repos/{owner}/{repo}/deployments/{id:long}", GetDeployment);
        web.MapPost("/repos/{owner}/{repo}/deployments/{id:long}/statuses", CreateStatusAsync);
        web.MapGet("/repos/{owner}/{repo}/deployments/{id:long}/statuses", ListStatuses);
    }

    private async Task<IResult> CreateDeploymentAsync(string owner, string repo, HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        var reference = (string?)body?["ref"];
        if (body is null || string.IsNullOrEmpty(reference))
        {
            return ValidationFailed("Invalid request.\n\n\"ref\" wasn't supplied.", "https://docs.github.com/rest/deployments/deployments#create-a-deployment");
        }

        var repository = State.Repository(owner, repo);
        var payload = body["payload"] switch
        {
            JsonValue text when text.TryGetValue<string>(out var encoded) => JsonNode.Parse(encoded),
            { } node => node.DeepClone(),
            null => new JsonObject(),
        };
        var deployment = new StandInDeployment
        {
            Id = State.NextDeploymentId(),
            Repository = repository,
            Sha = reference.Length == 40 ? reference : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(reference)))[..40],
            Ref = reference,
            Task = (string?)body["task"] ?? "deploy",
            Environment = (string?)body["environment"] ?? "production",
            Description = (string?)body["description"],
            Payload = payload,
            Creator = Actor(context),
            CreatedAt = options.Clock.GetUtcNow(),
            Request = (JsonObject)body.DeepClone(),
        };
        lock (State.Gate)
        {
            State.Deployments.Add(deployment);
        }

        var json = GitHubShapes.Deployment(BaseAddress, repository, deployment);
        Announce("deployment", new JsonObject
        {
            ["action"] = "created",
            ["deployment"] = json.DeepClone(),
            // Set when a workflow job created the deployment; a REST call leaves both null.
            ["workflow"] = null,
            ["workflow_run"] = null,
            ["repository"] = GitHubShapes.Repository(BaseAddress, repository),
            ["sender"] = GitHubShapes.Person(BaseAddress, deployment.Creator, GitHubShapes.UserType(deployment.Creator)),
        });
        return Json(201, json);
    }

    private IResult ListDeployments(string owner, string repo, string? sha, string? environment, string? task, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "ref")] string? reference)
    {
        var repository = State.Repository(owner, repo);
        JsonArray list;
        lock (State.Gate)
        {
            list = [.. State.Deployments
                .Where(d => d.Repository == repository)
                .Where(d => sha is null || d.Sha == sha)
                .Where(d => environment is null || d.Environment == environment)
                .Where(d => task is null || d.Task == task)
                .Where(d => reference is null || d.Ref == reference)
                .OrderByDescending(d => d.Id)
                .Select(d => (JsonNode)GitHubShapes.Deployment(BaseAddress, repository, d))];
        }

        return Json(200, list);
    }

    private IResult GetDeployment(string owner, string repo, long id)
    {
        var deployment = Find(owner, repo, id);
        return deployment is null ? NotFound() : Json(200, GitHubShapes.Deployment(BaseAddress, deployment.Repository, deployment));
    }

    private async Task<IResult> CreateStatusAsync(string owner, string repo, long id, HttpContext context)
    {
        var deployment = Find(owner, repo, id);
        if (deployment is null)
        {
            return NotFound();
        }

        var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        var state = (string?)body?["state"];
        string[] states = ["error", "failure", "inactive", "in_progress", "queued", "pending", "success"];
        if (body is null || state is null || !states.Contains(state))
        {
            return ValidationFailed("Validation Failed: state is not included in the list", StatusesDocumentation);
        }

        var description = (string?)body["description"];
        if (description is { Length: > 140 })
        {
            return ValidationFailed("Validation Failed: description is too long (maximum is 140 characters)", StatusesDocumentation);
        }

        var status = new StandInStatus(State.NextStatusId(), state, description, (string?)body["environment"],
            (string?)body["log_url"] ?? (string?)body["target_url"], (string?)body["environment_url"], options.Clock.GetUtcNow())
        {
            Creator = Actor(context),
        };
        lock (State.Gate)
        {
            deployment.Statuses.Add(status);
        }

        var json = GitHubShapes.DeploymentStatus(BaseAddress, deployment.Repository, deployment, status);
        Announce("deployment_status", new JsonObject
        {
            ["action"] = "created",
            ["deployment_status"] = json.DeepClone(),
            ["deployment"] = GitHubShapes.Deployment(BaseAddress, deployment.Repository, deployment),
            ["repository"] = GitHubShapes.Repository(BaseAddress, deployment.Repository),
            ["sender"] = GitHubShapes.Person(BaseAddress, status.Creator, GitHubShapes.UserType(status.Creator)),
        });
        return Json(201, json);
    }

    private IResult ListStatuses(string owner, string repo, long id)
    {
        var deployment = Find(owner, repo, id);
        if (deployment is null)
        {
            return NotFound();
        }

        JsonArray list;
        lock (State.Gate)
        {
            list = [.. deployment.Statuses
                .OrderByDescending(s => s.Id)
                .Select(s => (JsonNode)GitHubShapes.DeploymentStatus(BaseAddress, deployment.Repository, deployment, s))];
        }

        return Json(200, list);
    }

    private StandInDeployment? Find(string owner, string repo, long id)
    {
        lock (State.Gate)
        {
            return State.Deployments.FirstOrDefault(d =>
                d.Id == id && string.Equals(d.Repository.FullName, $"{owner}/{repo}", StringComparison.OrdinalIgnoreCase));
        }
    }

    private const string StatusesDocumentation = "https://docs.github.com/rest/deployments/statuses#create-a-deployment-status";
}
