using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace DeployFunctions.GitHub;

/// <summary>How the app reaches GitHub's REST API. Section <c>GitHub</c>.</summary>
public sealed class GitHubOptions
{
    public const string SectionName = "GitHub";

    /// <summary>
    /// REST API root: <c>https://api.github.com/</c>, <c>https://HOST/api/v3/</c> for GitHub Enterprise Server, or a
    /// local stand-in. App setting <c>GitHub__ApiBaseUrl</c>.
    /// </summary>
    public Uri ApiBaseUrl { get; set; } = new("https://api.github.com/");

    /// <summary>A fine-grained or classic token. App setting <c>GitHub__Token</c>. Use this or the App settings.</summary>
    public string? Token { get; set; }

    /// <summary>GitHub App id. App setting <c>GitHub__AppId</c>.</summary>
    public long? AppId { get; set; }

    /// <summary>GitHub App private key, PEM. App setting <c>GitHub__AppPrivateKey</c>.</summary>
    public string? AppPrivateKey { get; set; }

    /// <summary>Timeout of one REST call. App setting <c>GitHub__RequestTimeoutSeconds</c>.</summary>
    public double RequestTimeoutSeconds { get; set; } = 30;

    public bool UsesApp => AppId is not null || !string.IsNullOrWhiteSpace(AppPrivateKey);
}

internal sealed class GitHubOptionsValidator : IValidateOptions<GitHubOptions>
{
    public ValidateOptionsResult Validate(string? name, GitHubOptions options)
    {
        var failures = new List<string>();
        if (SecretSetting.Problem("GitHub__Token", options.Token) is { } tokenProblem)
        {
            failures.Add(tokenProblem);
        }

        var keyProblem = SecretSetting.Problem("GitHub__AppPrivateKey", options.AppPrivateKey);
        if (keyProblem is not null)
        {
            failures.Add(keyProblem);
        }

        var hasToken = !string.IsNullOrWhiteSpace(options.Token);
        if (hasToken && options.UsesApp)
        {
            failures.Add(
                "Both GitHub__Token and the GitHub App settings (GitHub__AppId, GitHub__AppPrivateKey) are set, and the app will " +
                "not guess which you meant: to use the App, remove GitHub__Token (local.settings.json made from the sample sets " +
                "it for the local stand-in); to use the token, clear GitHub__AppId and GitHub__AppPrivateKey.");
        }
        else if (!hasToken && !options.UsesApp)
        {
            failures.Add(
                "No GitHub credentials: set GitHub__Token (a token with Deployments read & write) or GitHub__AppId and " +
                "GitHub__AppPrivateKey (a GitHub App with Deployments read & write, Pull requests read, Metadata read).");
        }
        else if (options.UsesApp)
        {
            if (options.AppId is null or <= 0)
            {
                failures.Add("GitHub__AppId must be the numeric id of your GitHub App.");
            }

            if (keyProblem is null && !CanReadPrivateKey(options.AppPrivateKey))
            {
                failures.Add("GitHub__AppPrivateKey is not a PEM RSA private key (download one from the App's settings page).");
            }
        }

        if (!options.ApiBaseUrl.IsAbsoluteUri || options.ApiBaseUrl.Scheme is not ("https" or "http"))
        {
            failures.Add("GitHub__ApiBaseUrl must be an absolute http(s) URL, e.g. https://api.github.com/.");
        }

        if (options.RequestTimeoutSeconds is <= 0 or > 300)
        {
            failures.Add("GitHub__RequestTimeoutSeconds must be between 0 and 300.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool CanReadPrivateKey(string? pem)
    {
        if (string.IsNullOrWhiteSpace(pem))
        {
            return false;
        }

        try
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(GitHubAppJwt.NormalizePem(pem));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
