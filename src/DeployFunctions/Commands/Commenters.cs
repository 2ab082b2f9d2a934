using DeployFunctions.GitHub;
using Octokit;

namespace DeployFunctions.Commands;

/// <summary>Who a commenter is on GitHub: their repository permission and their team memberships.</summary>
internal static class Commenters
{
    /// <summary>GitHub's <c>role_name</c> (which knows maintain and triage), else <c>permission</c>; null when not a collaborator.</summary>
    public static async Task<string?> PermissionAsync(IGitHubClient github, string repository, string login)
    {
        var (owner, name) = GitHubNames.Split(repository);
        try
        {
            var answer = await new ApiConnection(github.Connection).Get<CollaboratorPermission>(new Uri(
                $"repos/{Uri.EscapeDataString(owner)}/{Uri.EscapeDataString(name)}/collaborators/{Uri.EscapeDataString(login)}/permission",
                UriKind.Relative));
            return answer.RoleName ?? answer.Permission;
        }
        catch (NotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// True when <paramref name="login"/> is on the list by name or as an active member of a listed <c>org/team</c>. An empty
    /// list admits nobody (the operator's empty setting is no list at all, and is never asked).
    /// </summary>
    public static async Task<bool> IsListedAsync(IGitHubClient github, string login, IReadOnlyList<string> allowed)
    {
        if (allowed.Any(entry => !entry.Contains('/', StringComparison.Ordinal) && string.Equals(entry.TrimStart('@'), login, StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        var api = new ApiConnection(github.Connection);
        foreach (var team in allowed.Where(entry => entry.Contains('/', StringComparison.Ordinal)))
        {
            var (org, slug) = GitHubNames.Split(team.TrimStart('@'));
            try
            {
                var membership = await api.Get<TeamMembershipAnswer>(new Uri(
                    $"orgs/{Uri.EscapeDataString(org)}/teams/{Uri.EscapeDataString(slug)}/memberships/{Uri.EscapeDataString(login)}", UriKind.Relative));
                if (membership.State == "active")
                {
                    return true;
                }
            }
            catch (NotFoundException)
            {
                // Not a member of this team.
            }
        }

        return false;
    }

    private sealed class CollaboratorPermission
    {
        public string? Permission { get; set; }
        public string? RoleName { get; set; }
    }

    private sealed class TeamMembershipAnswer
    {
        public string? State { get; set; }
    }
}
