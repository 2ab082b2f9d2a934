using System.Security.Cryptography;
using System.Text;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Commands;

/// <summary>
/// The hidden first line of a comment the app posts once (<c>&lt;!-- deployfunctions:&lt;key&gt;:&lt;tag&gt; --&gt;</c>). The tag
/// is an HMAC of the key with the webhook secret, so a collaborator cannot post a mark in advance to suppress the app's
/// answer to someone else's command: only marks the app could have written count. Every configured secret verifies
/// (rotation); the first one signs.
/// </summary>
public sealed class CommentMarks(IOptions<WebhookOptions> webhook)
{
    private readonly byte[][] keys = [.. webhook.Value.Secrets.Where(s => !string.IsNullOrEmpty(s)).Select(s => Encoding.UTF8.GetBytes(s))];

    public string Mark(string key) => Line(key, keys[0]);

    public bool IsOurs(string body, string key)
    {
        ArgumentNullException.ThrowIfNull(body);
        return keys.Any(secret => body.StartsWith(Line(key, secret), StringComparison.Ordinal));
    }

    private static string Line(string key, byte[] secret) =>
        $"<!-- deployfunctions:{key}:{Convert.ToHexStringLower(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes("deployfunctions-comment:" + key)))[..20]} -->";
}
