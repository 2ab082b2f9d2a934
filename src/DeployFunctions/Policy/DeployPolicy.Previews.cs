using System.Globalization;
using DeployFunctions.Config;
using DeployFunctions.Providers;

namespace DeployFunctions.Policy;

/// <summary>Where a pull request's preview deploys: its environment, the operator's target, its URL and workflow.</summary>
public sealed record PreviewPlan(string Environment, string Target, string? Url, string? Workflow);

/// <summary>Previews: the repository's <c>previews:</c> section, on a target the operator granted, never an environment of the app.</summary>
public sealed partial class DeployPolicy
{
    /// <summary>
    /// The preview of pull request <paramref name="number"/> of <paramref name="repository"/>, or null with
    /// <paramref name="why"/> when the repository has none (no <c>previews:</c> section, or its target is not granted) or
    /// the name it gives is one of the repository's other environments.
    /// </summary>
    public PreviewPlan? PreviewFor(string repository, long number, RepositoryConfig? config, out string why)
    {
        ArgumentNullException.ThrowIfNull(repository);
        if (config?.Previews is not { Target: { } target } previews)
        {
            why = $"{repository} has no previews: section in {RepositoryConfig.Path} on its default branch";
            return null;
        }

        if (PreviewProblems(previews, repository).FirstOrDefault() is { } problem)
        {
            why = problem;
            return null;
        }

        var environment = (previews.Environment ?? PreviewsConfig.DefaultEnvironment)
            .Replace("{number}", number.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        // Storage keys fold case: a preview never shares a name with an environment of the app or of the file.
        if (EnvironmentsFor(repository, config).Concat(config.Environments.Keys)
            .Any(known => string.Equals(known.ToLowerInvariant(), environment.ToLowerInvariant(), StringComparison.Ordinal)))
        {
            why = $"the preview's name {environment} is already an environment of {repository}; give previews.environment another pattern";
            return null;
        }

        why = "";
        var (owner, name) = GitHub.GitHubNames.Split(repository);
        var url = previews.Url?.Replace("{number}", number.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{environment}", Uri.EscapeDataString(environment), StringComparison.Ordinal)
            .Replace("{owner}", Uri.EscapeDataString(owner), StringComparison.Ordinal)
            .Replace("{repository}", Uri.EscapeDataString(name), StringComparison.Ordinal);
        return new PreviewPlan(environment, target, url, previews.Workflow);
    }

    /// <summary>What in a <c>previews:</c> section asks for more than the app grants <paramref name="repository"/>.</summary>
    private IEnumerable<string> PreviewProblems(PreviewsConfig previews, string? repository)
    {
        if (previews.Target is not { } target || !environmentSettings.Targets.TryGetValue(target, out var settings))
        {
            yield return $"previews.target: '{previews.Target}' is not a target of the app's settings (Targets__{previews.Target}__*)";
            yield break;
        }

        if (repository is not null && !Grants(settings, repository))
        {
            yield return $"previews.target: the app's settings do not grant '{target}' to {repository} (Targets__{target}__Repositories)";
        }

        if (previews.Workflow is not null && (settings.Provider ?? options.DefaultProvider) != ProviderKinds.GitHubActions)
        {
            yield return $"previews.workflow: target '{target}' does not run workflows (its provider is '{settings.Provider ?? options.DefaultProvider}')";
        }

        if (previews.Url is { } template)
        {
            var filled = template.Replace("{number}", "1", StringComparison.Ordinal).Replace("{environment}", "environment", StringComparison.Ordinal)
                .Replace("{owner}", "owner", StringComparison.Ordinal).Replace("{repository}", "repository", StringComparison.Ordinal);
            if (filled.Contains('{', StringComparison.Ordinal) || !Uri.TryCreate(filled, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps)
            {
                yield return $"previews.url: '{template}' is not an https URL once {{number}}, {{environment}}, {{owner}} and {{repository}} are filled in";
            }
        }
    }
}
