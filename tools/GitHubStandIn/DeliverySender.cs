using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>A webhook delivery: the headers GitHub sends and the body.</summary>
public sealed record Delivery(string Event, string DeliveryId, string ContentType, byte[] Body);

/// <summary>
/// Sends signed deliveries to a webhook URL: the built-in merged pull request, or a delivery saved from a hook's
/// Recent Deliveries on GitHub (its request headers, a blank line, then the payload), signed again with your secret.
/// </summary>
public static class DeliverySender
{
    /// <summary>
    /// The built-in merged pull request (derived from @octokit/webhooks-examples, see Examples/README.md), with a fresh
    /// merge commit so that every run asks for a new deployment.
    /// </summary>
    public static Delivery MergedPullRequest(string? repository = null, string? mergeCommitSha = null)
    {
        using var stream = typeof(DeliverySender).Assembly.GetManifestResourceStream("pull_request.closed.merged.json")
            ?? throw new InvalidOperationException("The built-in example is missing from the assembly.");
        var payload = JsonNode.Parse(stream)!.AsObject();
        payload["pull_request"]!["merge_commit_sha"] = mergeCommitSha ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        if (repository is not null)
        {
            var parts = repository.Split('/', 2);
            payload["repository"]!["full_name"] = repository;
            payload["repository"]!["name"] = parts[1];
            payload["repository"]!["owner"]!["login"] = parts[0];
        }

        return new Delivery("pull_request", Guid.NewGuid().ToString(), "application/json", Encoding.UTF8.GetBytes(payload.ToJsonString()));
    }

    /// <summary>
    /// Reads a saved delivery: header lines (<c>X-GitHub-Event: pull_request</c>, ...; other lines such as
    /// <c>Request URL</c> are ignored), a blank line, then the payload exactly as shown.
    /// </summary>
    public static Delivery Parse(string saved)
    {
        ArgumentNullException.ThrowIfNull(saved);
        var text = saved.Replace("\r\n", "\n", StringComparison.Ordinal);
        var split = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0)
        {
            throw new FormatException("A saved delivery is its headers, a blank line, then the payload; no blank line was found.");
        }

        var headers = text[..split].Split('\n')
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var body = text[(split + 2)..].Trim();
        var eventName = headers.GetValueOrDefault("X-GitHub-Event")
            ?? throw new FormatException("The saved delivery has no X-GitHub-Event header.");
        return new Delivery(
            eventName,
            headers.GetValueOrDefault("X-GitHub-Delivery") ?? Guid.NewGuid().ToString(),
            headers.GetValueOrDefault("Content-Type") ?? "application/json",
            Encoding.UTF8.GetBytes(body));
    }

    /// <summary>Posts <paramref name="delivery"/> signed with <paramref name="secret"/>; returns the status and the answer.</summary>
    public static async Task<(int Status, string Answer)> SendAsync(
        HttpClient http, Uri url, Delivery delivery, string secret, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(delivery);
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Content = new ByteArrayContent(delivery.Body);
        request.Content.Headers.TryAddWithoutValidation("Content-Type", delivery.ContentType);
        request.Headers.Add("X-GitHub-Event", delivery.Event);
        request.Headers.Add("X-GitHub-Delivery", delivery.DeliveryId);
        request.Headers.Add("X-Hub-Signature-256", StandInServer.Sign(delivery.Body, secret));
        request.Headers.UserAgent.ParseAdd("GitHub-Hookshot/standin-send");
        using var response = await http.SendAsync(request, cancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }
}
