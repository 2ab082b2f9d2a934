using System.Text.Json;
using Octokit;

namespace DeployFunctions.GitHub;

/// <summary>GitHub refused a GraphQL query, or answered it with errors (a 200 with <c>errors</c>, as GraphQL does).</summary>
public sealed class GitHubGraphQLException : Exception
{
    public GitHubGraphQLException()
    {
    }

    public GitHubGraphQLException(string message)
        : base(message)
    {
    }

    public GitHubGraphQLException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>GitHub's GraphQL rate limit (error type <c>RATE_LIMITED</c>): try again later.</summary>
    public bool RateLimited { get; init; }
}

/// <summary>
/// GitHub's GraphQL API through the same Octokit connection (credentials, timeouts, rate-limit headers) as every REST
/// call: <c>POST /graphql</c> on api.github.com, <c>POST /api/graphql</c> on Enterprise Server.
/// </summary>
public static class GitHubGraphQL
{
    /// <summary>The GraphQL endpoint beside a REST root: <c>https://HOST/api/v3/</c> has it at <c>https://HOST/api/graphql</c>.</summary>
    public static Uri Endpoint(Uri apiBase)
    {
        ArgumentNullException.ThrowIfNull(apiBase);
        return apiBase.AbsolutePath.EndsWith("/api/v3/", StringComparison.OrdinalIgnoreCase)
            ? new Uri(apiBase, "../graphql")
            : new Uri(apiBase, "graphql");
    }

    /// <summary>Runs <paramref name="query"/> and returns its <c>data</c>; errors throw <see cref="GitHubGraphQLException"/>.</summary>
    public static async Task<JsonElement> QueryAsync(
        IGitHubClient github, string query, IReadOnlyDictionary<string, object> variables, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(github);
        var body = JsonSerializer.Serialize(new Dictionary<string, object> { ["query"] = query, ["variables"] = variables });
        var response = await github.Connection.Post<object>(Endpoint(github.Connection.BaseAddress), body, "application/json",
            "application/json", cancellationToken: cancellationToken);
        if (response.HttpResponse.Body is not string text)
        {
            throw new GitHubGraphQLException("GitHub's GraphQL API answered without a JSON body.");
        }

        using var answer = JsonDocument.Parse(text);
        var root = answer.RootElement;
        if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
        {
            var messages = errors.EnumerateArray()
                .Select(e => e.TryGetProperty("message", out var m) ? m.GetString() : null)
                .OfType<string>();
            throw new GitHubGraphQLException($"GitHub's GraphQL API refused the query: {string.Join("; ", messages)}")
            {
                RateLimited = errors.EnumerateArray().Any(e => e.TryGetProperty("type", out var type) && type.GetString() == "RATE_LIMITED"),
            };
        }

        return root.TryGetProperty("data", out var data) ? data.Clone() : throw new GitHubGraphQLException("GitHub's GraphQL answer has no data.");
    }
}
