using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>GitHub's shapes: deployments and deployment statuses.</summary>
public static partial class GitHubShapes
{
    public static JsonObject Deployment(Uri api, StandInRepository repository, StandInDeployment deployment)
    {
        var url = new Uri(api, $"repos/{repository.FullName}/deployments/{deployment.Id}").ToString();
        return new JsonObject
        {
            ["url"] = url,
            ["id"] = deployment.Id,
            ["node_id"] = NodeId("DE", deployment.Id),
            ["sha"] = deployment.Sha,
            ["ref"] = deployment.Ref,
            ["task"] = deployment.Task,
            ["payload"] = deployment.Payload?.DeepClone() ?? new JsonObject(),
            ["original_environment"] = deployment.Environment,
            ["environment"] = deployment.Environment,
            ["description"] = deployment.Description,
            ["creator"] = Person(api, deployment.Creator, UserType(deployment.Creator)),
            ["created_at"] = Time(deployment.CreatedAt),
            ["updated_at"] = Time(deployment.CreatedAt),
            ["statuses_url"] = url + "/statuses",
            ["repository_url"] = new Uri(api, $"repos/{repository.FullName}").ToString(),
            ["transient_environment"] = false,
            ["production_environment"] = deployment.Environment == "production",
            ["performed_via_github_app"] = null,
        };
    }

    public static JsonObject DeploymentStatus(Uri api, StandInRepository repository, StandInDeployment deployment, StandInStatus status)
    {
        var deploymentUrl = new Uri(api, $"repos/{repository.FullName}/deployments/{deployment.Id}").ToString();
        return new JsonObject
        {
            ["url"] = $"{deploymentUrl}/statuses/{status.Id}",
            ["id"] = status.Id,
            ["node_id"] = NodeId("DES", status.Id),
            ["state"] = status.State,
            ["creator"] = Person(api, status.Creator, UserType(status.Creator)),
            ["description"] = status.Description ?? "",
            ["environment"] = status.Environment ?? deployment.Environment,
            ["target_url"] = status.LogUrl ?? "",
            ["log_url"] = status.LogUrl ?? "",
            ["environment_url"] = status.EnvironmentUrl ?? "",
            ["created_at"] = Time(status.CreatedAt),
            ["updated_at"] = Time(status.CreatedAt),
            ["deployment_url"] = deploymentUrl,
            ["repository_url"] = new Uri(api, $"repos/{repository.FullName}").ToString(),
            ["performed_via_github_app"] = null,
        };
    }
}
