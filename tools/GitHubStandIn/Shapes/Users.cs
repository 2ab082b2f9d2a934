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

    /// <summary>GitHub names an app's bot user <c>&lt;slug&gt;[bot]</c>, of type <c>Bot</c>.</summary>
    public static string UserType(string login) => login.EndsWith("[bot]", StringComparison.Ordinal) ? "Bot" : "User";

    /// <summary>GitHub's <c>public-user</c> (<c>GET /user</c>, <c>GET /users/{username}</c>).</summary>
    public static JsonObject PublicUser(Uri api, string login)
    {
        var user = Person(api, login, UserType(login));
        foreach (var field in new[] { "name", "company", "blog", "location", "email", "hireable", "bio" })
        {
            user[field] = null;
        }

        user["blog"] = "";
        user["public_repos"] = 0;
        user["public_gists"] = 0;
        user["followers"] = 0;
        user["following"] = 0;
        user["created_at"] = "2026-01-01T00:00:00Z";
        user["updated_at"] = "2026-01-01T00:00:00Z";
        user["user_view_type"] = "public";
        return user;
    }

    /// <summary>GitHub's <c>integration</c> (<c>GET /app</c>): the GitHub App the JWT was signed for.</summary>
    public static JsonObject App(Uri api, long id, string slug, string ownerLogin) => new()
    {
        ["id"] = id,
        ["slug"] = slug,
        ["node_id"] = NodeId("A", id),
        ["client_id"] = "Iv1.standin",
        ["owner"] = User(api, ownerLogin, id + 7, "Organization"),
        ["name"] = slug,
        ["description"] = "The GitHub stand-in's App",
        ["external_url"] = "https://example.com",
        ["html_url"] = $"https://github.com/apps/{slug}",
        ["created_at"] = "2026-01-01T00:00:00Z",
        ["updated_at"] = "2026-01-01T00:00:00Z",
        ["permissions"] = new JsonObject { ["deployments"] = "write", ["metadata"] = "read", ["pull_requests"] = "write" },
        ["events"] = new JsonArray("deployment", "deployment_status", "pull_request", "issue_comment", "workflow_run"),
    };

    /// <summary>A user by login alone (a stable id derived from it).</summary>
    public static JsonObject Person(Uri api, string login, string type = "User") => User(api, login, UserId(login), type);

    private static JsonObject Link(string href) => new() { ["href"] = href };

    private static string NodeId(string prefix, long id) =>
        Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes($"0{prefix}{id}"));
}
