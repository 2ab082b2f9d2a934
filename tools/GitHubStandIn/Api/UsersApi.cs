namespace GitHubStandIn;

/// <summary>The authenticated user (<c>GET /user</c>): who a token belongs to.</summary>
public sealed partial class StandInServer
{
    private void MapUsers(WebApplication web) =>
        web.MapGet("/user", (HttpContext context) => Json(200, GitHubShapes.PublicUser(BaseAddress, Actor(context))));
}
