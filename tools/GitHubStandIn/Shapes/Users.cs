using System.Globalization;
using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>GitHub's shapes: users, installations, ids and times.</summary>
public static partial class GitHubShapes
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

    private static long UserId(string login) => 10_000 + (uint)login.ToLowerInvariant().GetHashCode(StringComparison.Ordinal) % 1_000_000;

    /// <summary>A user by login alone (a stable id derived from it).</summary>
    public static JsonObject Person(Uri api, string login, string type = "User") => User(api, login, UserId(login), type);

    private static JsonObject Link(string href) => new() { ["href"] = href };

    private static string NodeId(string prefix, long id) =>
        Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes($"0{prefix}{id}"));
}
