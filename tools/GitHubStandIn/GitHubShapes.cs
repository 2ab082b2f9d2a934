using System.Globalization;
using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>
/// JSON in GitHub's own shapes (REST answers and webhook payloads), built with the same property names as the real
/// payloads in @octokit/webhooks-examples; a test in DeployFunctions.Tests compares them.
/// </summary>
public static class GitHubShapes
{
    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static JsonObject User(Uri api, string login, long id, string type = "User") => new()
    {
        ["login"] = login,
        ["id"] = id,
        ["node_id"] = NodeId("U", id),
        ["avatar_url"] = $"https://avatars.githubusercontent.com/u/{id}?v=4",
        ["gravatar_id"] = "",
        ["url"] = new Uri(api, $"users/{login}").ToString(),
        ["html_url"] = $"https://github.com/{login}",
        ["followers_url"] = new Uri(api, $"users/{login}/followers").ToString(),
        ["following_url"] = new Uri(api, $"users/{login}/following").ToString() + "{/other_user}",
        ["gists_url"] = new Uri(api, $"users/{login}/gists").ToString() + "{/gist_id}",
        ["starred_url"] = new Uri(api, $"users/{login}/starred").ToString() + "{/owner}{/repo}",
        ["subscriptions_url"] = new Uri(api, $"users/{login}/subscriptions").ToString(),
        ["organizations_url"] = new Uri(api, $"users/{login}/orgs").ToString(),
        ["repos_url"] = new Uri(api, $"users/{login}/repos").ToString(),
        ["events_url"] = new Uri(api, $"users/{login}/events").ToString() + "{/privacy}",
        ["received_events_url"] = new Uri(api, $"users/{login}/received_events").ToString(),
        ["type"] = type,
        ["site_admin"] = false,
    };

    /// <summary>GitHub's <c>installation</c> (REST description, components/schemas/installation: every required field).</summary>
    public static JsonObject Installation(Uri api, long id, long appId, string accountLogin) => new()
    {
        ["id"] = id,
        ["account"] = User(api, accountLogin, id + 7, "Organization"),
        ["repository_selection"] = "selected",
        ["access_tokens_url"] = new Uri(api, $"app/installations/{id}/access_tokens").ToString(),
        ["repositories_url"] = new Uri(api, "installation/repositories").ToString(),
        ["html_url"] = $"https://github.com/organizations/{accountLogin}/settings/installations/{id}",
        ["app_id"] = appId,
        ["app_slug"] = "deployfunctions",
        ["target_id"] = id + 7,
        ["target_type"] = "Organization",
        ["permissions"] = new JsonObject { ["deployments"] = "write", ["metadata"] = "read", ["pull_requests"] = "read" },
        ["events"] = new JsonArray("deployment", "deployment_status", "pull_request"),
        ["created_at"] = "2026-01-01T00:00:00Z",
        ["updated_at"] = "2026-01-01T00:00:00Z",
        ["single_file_name"] = null,
        ["suspended_by"] = null,
        ["suspended_at"] = null,
    };

    public static JsonObject Repository(Uri api, StandInRepository repository)
    {
        var url = new Uri(api, $"repos/{repository.FullName}").ToString();
        var repositoryJson = new JsonObject
        {
            ["id"] = repository.Id,
            ["node_id"] = NodeId("R", repository.Id),
            ["name"] = repository.Name,
            ["full_name"] = repository.FullName,
            ["private"] = false,
            ["owner"] = User(api, repository.Owner, repository.Id + 1),
            ["html_url"] = $"https://github.com/{repository.FullName}",
            ["description"] = null,
            ["fork"] = false,
            ["url"] = url,
            ["deployments_url"] = url + "/deployments",
            ["created_at"] = "2026-01-01T00:00:00Z",
            ["updated_at"] = "2026-01-01T00:00:00Z",
            ["pushed_at"] = "2026-01-01T00:00:00Z",
            ["git_url"] = $"git://github.com/{repository.FullName}.git",
            ["ssh_url"] = $"git@github.com:{repository.FullName}.git",
            ["clone_url"] = $"https://github.com/{repository.FullName}.git",
            ["homepage"] = null,
            ["size"] = 0,
            ["stargazers_count"] = 0,
            ["watchers_count"] = 0,
            ["language"] = null,
            ["has_issues"] = true,
            ["has_projects"] = true,
            ["has_downloads"] = true,
            ["has_wiki"] = true,
            ["has_pages"] = false,
            ["forks_count"] = 0,
            ["mirror_url"] = null,
            ["archived"] = false,
            ["disabled"] = false,
            ["open_issues_count"] = 0,
            ["license"] = null,
            ["forks"] = 0,
            ["open_issues"] = 0,
            ["watchers"] = 0,
            ["default_branch"] = repository.DefaultBranch,
        };
        // The URL templates every repository object carries (GitHub's repository-webhooks schema requires them all).
        foreach (var (name, template) in RepositoryUrlTemplates)
        {
            repositoryJson[name] = url + template;
        }

        repositoryJson["svn_url"] = $"https://github.com/{repository.FullName}";
        return repositoryJson;
    }

    private static readonly (string Name, string Template)[] RepositoryUrlTemplates =
    [
        ("archive_url", "/{archive_format}{/ref}"), ("assignees_url", "/assignees{/user}"), ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"), ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"), ("commits_url", "/commits{/sha}"), ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"), ("contributors_url", "/contributors"), ("downloads_url", "/downloads"),
        ("events_url", "/events"), ("forks_url", "/forks"), ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"), ("git_tags_url", "/git/tags{/sha}"), ("hooks_url", "/hooks"),
        ("issue_comment_url", "/issues/comments{/number}"), ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"), ("keys_url", "/keys{/key_id}"), ("labels_url", "/labels{/name}"),
        ("languages_url", "/languages"), ("merges_url", "/merges"), ("milestones_url", "/milestones{/number}"),
        ("notifications_url", "/notifications{?since,all,participating}"), ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"), ("stargazers_url", "/stargazers"), ("statuses_url", "/statuses/{sha}"),
        ("subscribers_url", "/subscribers"), ("subscription_url", "/subscription"), ("tags_url", "/tags"),
        ("teams_url", "/teams"), ("trees_url", "/git/trees{/sha}"),
    ];

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
            ["creator"] = User(api, deployment.Creator, 9000),
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
            ["creator"] = User(api, deployment.Creator, 9000),
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

    private static string NodeId(string prefix, long id) =>
        Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes($"0{prefix}{id}"));
}
